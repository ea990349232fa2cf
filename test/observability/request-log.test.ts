import { request } from 'undici';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { closedPort, eventually, logSink } from './helpers';

const FEED = 'query Feed { auditEvents(first: 3) { nodes { id } } }';

describe('request-scoped logs', () => {
  const log = logSink();
  let setup: TestGateway;

  beforeAll(async () => {
    const port = await closedPort();
    setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 30 },
        // Refused at connect: one failed call per request, never retried.
        { id: 'nirvana-down', module: nirvanaModule, size: 5, baseUrl: `http://127.0.0.1:${port}` },
      ],
      {},
      { logDestination: log.stream },
    );
  }, 60_000);

  afterAll(async () => {
    await setup?.close();
  });

  const linesOf = (reqId: string) => log.lines().filter((line) => line['reqId'] === reqId);
  const accessLinesOf = (reqId: string) => linesOf(reqId).filter((line) => line['msg'] === 'request');

  it("carries the client's x-request-id on the upstream failure line, echoes it, and names the source once", async () => {
    const response = await setup.query(FEED, undefined, { 'x-request-id': 'client-req-42' });
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('client-req-42');
    expect(response.errors?.[0]?.extensions?.['requestId']).toBe('client-req-42');

    const failure = await eventually(() => log.raw.find((line) => line.includes('"msg":"upstream call failed"') && line.includes('"reqId":"client-req-42"')));
    expect(failure.match(/"source":/g)).toHaveLength(1);
    expect(JSON.parse(failure)).toMatchObject({ level: 40, reqId: 'client-req-42', source: 'nirvana-down', code: 'UPSTREAM_UNREACHABLE' });
  }, 30_000);

  it('writes one access line per request, with its operation, status, duration, upstream requests and principal', async () => {
    await setup.query(FEED, undefined, { 'x-request-id': 'client-req-43' });
    const [line, ...more] = await eventually(() => {
      const found = accessLinesOf('client-req-43');
      return found.length > 0 ? found : undefined;
    });
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({ level: 30, method: 'POST', path: '/graphql', operation: 'Feed', status: 200, principal: 'anonymous', errorCodes: ['UPSTREAM_UNREACHABLE'] });
    expect(typeof line!['durationMs']).toBe('number');
    // The page of the source that answered and the refused call of the other.
    expect(line!['upstreamRequests']).toBeGreaterThanOrEqual(2);
    // Nothing of the request's body or credentials.
    expect(JSON.stringify(line)).not.toContain('auditEvents');
  }, 30_000);

  it('replaces an x-request-id that is not a sane token with a fresh id', async () => {
    const response = await request(setup.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'no spaces or "quotes"' },
      body: JSON.stringify({ query: '{ sources { sourceId } }' }),
    });
    await response.body.dump();
    const id = String(response.headers['x-request-id']);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(() => (accessLinesOf(id).length === 1 ? true : undefined));
  }, 30_000);

  it('logs routes other than /graphql too, and probes only at debug', async () => {
    const missing = await request(setup.gateway.url.replace(/\/graphql$/, '/nowhere'), { headers: { 'x-request-id': 'client-req-404' } });
    await missing.body.dump();
    expect(missing.headers['x-request-id']).toBe('client-req-404');
    const [line] = await eventually(() => {
      const found = accessLinesOf('client-req-404');
      return found.length > 0 ? found : undefined;
    });
    expect(line).toMatchObject({ method: 'GET', path: '/nowhere', operation: null, status: 404, upstreamRequests: 0 });

    const probe = await request(setup.gateway.url.replace(/\/graphql$/, '/healthz'), { headers: { 'x-request-id': 'client-req-probe' } });
    await probe.body.dump();
    expect(probe.headers['x-request-id']).toBe('client-req-probe');
    // A line written at debug would have come before the next request's line: there is none at info.
    await setup.query('{ sources { sourceId } }', undefined, { 'x-request-id': 'client-req-after-probe' });
    await eventually(() => (accessLinesOf('client-req-after-probe').length === 1 ? true : undefined));
    expect(accessLinesOf('client-req-probe')).toHaveLength(0);
  }, 30_000);
});
