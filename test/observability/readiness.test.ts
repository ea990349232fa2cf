import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { defaultServerConfig, sourceConfig, type GatewayConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { readinessOf } from '../../src/observability/readiness';
import { createGateway, type Gateway } from '../../src/server';
import { SourceHealthTracker } from '../../src/sources/health';
import { SourceRegistry, type RegisteredSource } from '../../src/sources/registry';
import { closedPort } from './helpers';

/** A source at a port nothing listens on, whose failures count for an hour (no timing in the test). */
const downSource = (id: string, port: number) =>
  sourceConfig({ id, vendor: 'nirvana', baseUrl: `http://127.0.0.1:${port}`, allowPrivateNetwork: true, apiKey: 'k', circuitBreaker: { threshold: 100, halfOpenAfterMs: 3_600_000 } });

async function getJson(url: string): Promise<{ status: number; body: { status: string; sources: Array<Record<string, unknown>> } }> {
  const response = await request(url);
  return { status: response.statusCode, body: (await response.body.json()) as { status: string; sources: Array<Record<string, unknown>> } };
}

describe('/readyz', () => {
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    const port = await closedPort();
    const config: GatewayConfig = {
      server: defaultServerConfig({ cursorSecret: randomBytes(32).toString('hex') }),
      sources: [downSource('first-down', port), downSource('second-down', port)],
      demo: false,
    };
    gateway = await createGateway(config, { logger: createLogger({ level: 'silent' }), port: 0, tracing: { env: {} } });
    base = gateway.url.replace(/\/graphql$/, '');
  }, 30_000);

  afterAll(async () => {
    await gateway?.stop(1000);
  });

  it('is ready before any source was called, unready once every source is down, and /healthz stays live', async () => {
    const before = await getJson(`${base}/readyz`);
    expect(before.status).toBe(200);
    expect(before.body.status).toBe('ready');
    expect(before.body.sources).toEqual([
      expect.objectContaining({ id: 'first-down', vendor: 'nirvana', usable: true, health: 'UNKNOWN', circuit: 'CLOSED' }),
      expect.objectContaining({ id: 'second-down', usable: true, health: 'UNKNOWN' }),
    ]);

    const response = await request(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ auditEvents(first: 2) { nodes { id } } }' }) });
    await response.body.dump();

    const after = await getJson(`${base}/readyz`);
    expect(after.status).toBe(503);
    expect(after.body.status).toBe('unavailable');
    for (const source of after.body.sources) expect(source).toMatchObject({ usable: false, health: 'DOWN', lastErrorCode: 'UPSTREAM_UNREACHABLE' });

    const health = await request(`${base}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  }, 30_000);
});

describe('readinessOf', () => {
  const registry = (states: Array<(health: SourceHealthTracker) => void>) =>
    new SourceRegistry(
      states.map((apply, index): RegisteredSource => {
        const health = new SourceHealthTracker();
        apply(health);
        return { config: { id: `s${index}`, vendor: 'nirvana', name: undefined, baseUrl: 'http://x', allowPrivateNetwork: true, timeouts: { connectMs: 1, headersMs: 1, bodyMs: 1, requestMs: 1 }, retry: { maxRetries: 0, minDelayMs: 1, maxDelayMs: 1 }, maxConnections: 1, maxResponseBytes: 1024 }, dataSource: {} as RegisteredSource['dataSource'], health };
      }),
    );

  it('stays ready while one source is usable', () => {
    const sources = registry([(health) => health.recordFailure('UPSTREAM_UNREACHABLE'), (health) => health.recordSuccess()]);
    expect(readinessOf(sources)).toMatchObject({ ready: true, sources: [{ usable: false }, { usable: true }] });
  });

  it('counts only outages: a source that refused one request is up', () => {
    const sources = registry([(health) => health.recordFailure('UPSTREAM_BAD_REQUEST')]);
    expect(readinessOf(sources).ready).toBe(true);
  });

  it('counts an open circuit as unusable', () => {
    const sources = registry([(health) => {
      health.recordFailure('UPSTREAM_UNAVAILABLE');
      health.recordCircuit('OPEN');
    }]);
    expect(readinessOf(sources)).toMatchObject({ ready: false, sources: [{ usable: false, circuit: 'OPEN' }] });
  });

  it('forgets a failure once the circuit breaker would probe again, so that traffic can find the source back', () => {
    const sources = registry([(health) => health.recordFailure('UPSTREAM_TIMEOUT')]);
    const failedAt = sources.all[0]!.health.snapshot().checkedAt!.getTime();
    expect(readinessOf(sources, failedAt + 1_000).ready).toBe(false);
    expect(readinessOf(sources, failedAt + 10_000).ready).toBe(true);
  });
});
