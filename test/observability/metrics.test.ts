import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { AuthConfig } from '../../src/auth';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { parsePrometheus, sumOf, type Sample } from './helpers';

const FEED = `query Feed($after: String) { auditEvents(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } }`;

const metricsUrlOf = (setup: TestGateway) => setup.gateway.url.replace(/\/graphql$/, '/metrics');

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; samples: Sample[] }> {
  const response = await request(url, { headers });
  const text = await response.body.text();
  return { status: response.statusCode, contentType: String(response.headers['content-type']), samples: response.statusCode === 200 ? parsePrometheus(text) : [] };
}

describe('/metrics', () => {
  describe('on the API port, without auth', () => {
    let setup: TestGateway;
    let other: TestGateway;

    beforeAll(async () => {
      setup = await startTestGateway([
        { id: 'nirvana-main', module: nirvanaModule, size: 60 },
        { id: 'port-main', module: portModule, size: 60 },
      ]);
      other = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }]);
    }, 60_000);

    afterAll(async () => {
      await setup?.close();
      await other?.close();
    });

    it('counts requests by operation and status, upstream calls by source and outcome, and cache hits and misses', async () => {
      const first = await setup.query<{ auditEvents: { pageInfo: { endCursor: string } } }>(FEED);
      expect(first.status).toBe(200);
      const second = await setup.query(FEED, { after: first.data!.auditEvents.pageInfo.endCursor });
      expect(second.status).toBe(200);
      const refused = await setup.query('query Broken { auditEvents(first: 0) { nodes { id } } }');
      expect(refused.status).toBe(400);

      const { status, contentType, samples } = await scrape(metricsUrlOf(setup));
      expect(status).toBe(200);
      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);

      expect(sumOf(samples, 'audit_gateway_requests_total', { route: 'graphql', operation: 'Feed', status: '200' })).toBe(2);
      expect(sumOf(samples, 'audit_gateway_requests_total', { route: 'graphql', operation: 'Broken', status: '400' })).toBe(1);
      expect(sumOf(samples, 'audit_gateway_request_duration_seconds_count', { route: 'graphql', operation: 'Feed' })).toBe(2);

      for (const source of ['nirvana-main', 'port-main']) {
        const calls = sumOf(samples, 'audit_gateway_upstream_calls_total', { source, outcome: 'OK', status: '200' });
        expect(calls).toBeGreaterThan(0);
        expect(sumOf(samples, 'audit_gateway_upstream_call_duration_seconds_count', { source, outcome: 'OK' })).toBe(calls);
        // As many calls as the simulators served: every call is counted once, with its retries.
        expect(calls).toBe(setup.simulators.get(source)!.control.stats.requests);
      }
      // The first page fetched its batches; the second resumed from them.
      expect(sumOf(samples, 'audit_gateway_cache_lookups_total', { cache: 'batches', result: 'miss' })).toBeGreaterThan(0);
      expect(sumOf(samples, 'audit_gateway_cache_lookups_total', { cache: 'batches', result: 'hit' })).toBeGreaterThan(0);

      // The scrape itself is being answered while the gauge is read.
      expect(sumOf(samples, 'audit_gateway_requests_in_flight')).toBeGreaterThanOrEqual(1);
      expect(samples.some((sample) => sample.name === 'audit_gateway_admission_running')).toBe(true);
      expect(samples.some((sample) => sample.name === 'audit_gateway_admission_queued')).toBe(true);
      expect(samples.some((sample) => sample.name === 'process_resident_memory_bytes')).toBe(true);
    }, 60_000);

    it('keeps each gateway in its own registry', async () => {
      await other.query(FEED);
      const mine = await scrape(metricsUrlOf(other));
      expect(sumOf(mine.samples, 'audit_gateway_requests_total', { route: 'graphql', operation: 'Feed' })).toBe(1);
      expect(sumOf(mine.samples, 'audit_gateway_upstream_calls_total', { source: 'port-main' })).toBe(0);
    }, 30_000);

    it('bounds the operation label to GraphQL names', async () => {
      await setup.query('query { sources { sourceId } }');
      const { samples } = await scrape(metricsUrlOf(setup));
      expect(sumOf(samples, 'audit_gateway_requests_total', { route: 'graphql', operation: '(anonymous)', status: '200' })).toBe(1);
    }, 30_000);
  });

  describe('with auth', () => {
    const KEY = 'metrics-test-key-0123456789';
    let setup: TestGateway;

    beforeAll(async () => {
      const auth: AuthConfig = { mode: 'required', apiKeys: [{ id: 'ops', sha256: createHash('sha256').update(KEY).digest('hex'), sources: '*' }], jwt: null };
      setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }], { auth });
    }, 60_000);

    afterAll(async () => {
      await setup?.close();
    });

    it('asks for the API bearer credential', async () => {
      const anonymous = await scrape(metricsUrlOf(setup));
      expect(anonymous.status).toBe(401);
      const wrong = await scrape(metricsUrlOf(setup), { authorization: 'Bearer not-the-key' });
      expect(wrong.status).toBe(401);
      const ops = await scrape(metricsUrlOf(setup), { authorization: `Bearer ${KEY}` });
      expect(ops.status).toBe(200);
      expect(sumOf(ops.samples, 'audit_gateway_requests_total', { route: 'metrics', status: '401' })).toBe(2);
    }, 30_000);
  });

  describe('on a port of its own', () => {
    const KEY = 'metrics-port-test-key-0123456789';
    let setup: TestGateway;

    beforeAll(async () => {
      const auth: AuthConfig = { mode: 'required', apiKeys: [{ id: 'ops', sha256: createHash('sha256').update(KEY).digest('hex'), sources: '*' }], jwt: null };
      setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }], { auth, metrics: { enabled: true, port: 0, host: '127.0.0.1' } });
    }, 60_000);

    afterAll(async () => {
      await setup?.close();
    });

    it('serves them there without credentials, and not on the API port', async () => {
      expect(setup.gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(setup.gateway.metricsUrl).not.toContain(`:${setup.gateway.port}/`);
      await setup.query(FEED, undefined, { authorization: `Bearer ${KEY}` });
      const own = await scrape(setup.gateway.metricsUrl!);
      expect(own.status).toBe(200);
      expect(sumOf(own.samples, 'audit_gateway_requests_total', { route: 'graphql', operation: 'Feed', status: '200' })).toBe(1);
      const api = await scrape(metricsUrlOf(setup), { authorization: `Bearer ${KEY}` });
      expect(api.status).toBe(404);
    }, 30_000);
  });

  it('is not served when server.metrics.enabled is false', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 5 }], { metrics: { enabled: false, port: null, host: null } });
    try {
      expect((await scrape(metricsUrlOf(setup))).status).toBe(404);
      expect(setup.gateway.metricsUrl).toBeNull();
    } finally {
      await setup.close();
    }
  }, 30_000);
});
