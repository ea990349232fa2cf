import { Readable } from 'node:stream';
import { request } from 'undici';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway } from '../helpers/gateway';
import { parsePrometheus, sumOf } from '../observability/helpers';

const QUERY = JSON.stringify({ query: '{ auditEvents(first: 5) { nodes { id } } }' });

async function post(url: string): Promise<{ status: number; retryAfter: string | undefined; body: { errors?: Array<{ extensions?: Record<string, unknown> }> } }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY });
  const retryAfter = response.headers['retry-after'];
  return { status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, body: (await response.body.json()) as never };
}

describe('admission control', () => {
  it('runs what fits, queues a bounded number, and sheds the excess at once with 503 and Retry-After', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 1, maxQueued: 1, perClientPerMinute: null } });
    try {
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 300;
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 6 }, () => post(setup.gateway.url)));
      const shed = answers.filter((answer) => answer.status === 503);
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2);
      expect(shed).toHaveLength(4);
      for (const answer of shed) {
        expect(answer.retryAfter).toBe('1');
        expect(answer.body.errors?.[0]?.extensions?.['code']).toBe('OVERLOADED');
      }
      // The gateway still answers once the load has passed.
      expect((await post(setup.gateway.url)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await setup.close();
    }
  });

  it('sheds at once what a full bulkhead has no room for, and still answers a client over its rate with 429', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 1, maxQueued: 0, perClientPerMinute: 3 } });
    try {
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 800;
      const held = post(setup.gateway.url);
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 2; i++) {
        const sentAt = Date.now();
        const shed = await post(setup.gateway.url);
        expect(Date.now() - sentAt).toBeLessThan(400);
        expect(shed.status).toBe(503);
        expect(shed.retryAfter).toBe('1');
        expect(shed.body.errors?.[0]?.extensions?.['code']).toBe('OVERLOADED');
      }
      // The fourth request of the minute: over the rate of 3, which a full bulkhead does not hide.
      const limited = await post(setup.gateway.url);
      expect(limited.status).toBe(429);
      expect(limited.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      expect((await held).status).toBe(200);
    } finally {
      await setup.close();
    }
  });

  it('counts the time queued for capacity in the request deadline: a request still queued when it passes is answered 503 then, not run late', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], {
      admission: { maxInFlight: 1, maxQueued: 4, perClientPerMinute: null },
      requestTimeoutMs: 1_000,
    });
    try {
      // The one slot is held for 1.5 s by a client that uploads its body slowly.
      async function* slowBody() {
        yield QUERY.slice(0, 10);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        yield QUERY.slice(10);
      }
      const first = request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(QUERY.length) }, body: Readable.from(slowBody()) }).then((response) => response.body.dump());
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = setup.simulators.get('nirvana-main')!.control.stats.requests;
      const queuedAt = Date.now();
      const queued = await post(setup.gateway.url);
      const waited = Date.now() - queuedAt;
      expect(queued.status).toBe(503);
      expect(queued.body.errors?.[0]?.extensions?.['code']).toBe('OVERLOADED');
      // Answered when its own deadline passed (1 s after it arrived), not when the slot freed.
      expect(waited).toBeLessThan(1_400);
      await first;
      // It never ran: no upstream call of its own.
      expect(setup.simulators.get('nirvana-main')!.control.stats.requests - before).toBe(0);
    } finally {
      await setup.close();
    }
  });

  it('parks a request that only waits for a slow upstream, apart from the limit, and counts it again once the answer came', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 4, maxQueued: 4, perClientPerMinute: null } });
    const gauges = async () => {
      const response = await request(setup.gateway.url.replace(/\/graphql$/, '/metrics'));
      const samples = parsePrometheus(await response.body.text());
      return { running: sumOf(samples, 'audit_gateway_admission_running'), parked: sumOf(samples, 'audit_gateway_admission_parked') };
    };
    try {
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 1_500;
      const slow = post(setup.gateway.url);
      // The upstream call has waited beyond the park time and at least one adjustment (100 ms) since.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await gauges()).toEqual({ running: 1, parked: 1 });
      expect((await slow).status).toBe(200);
      expect(await gauges()).toEqual({ running: 0, parked: 0 });
    } finally {
      await setup.close();
    }
  });

  it('limits each client to its requests a minute with 429 and Retry-After', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: 3 } });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await post(setup.gateway.url));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
      const limited = answers[3]!;
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
      expect(limited.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      // Health checks are never limited.
      expect((await request(setup.gateway.url.replace('/graphql', '/healthz'))).statusCode).toBe(200);
    } finally {
      await setup.close();
    }
  });
});
