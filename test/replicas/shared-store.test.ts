import { Admission } from '../../src/admission';
import { FetchCache } from '../../src/cache/fetch-cache';
import { SharedStore, SharedStoreUnavailable } from '../../src/cache/redis-store';
import { createLogger } from '../../src/logger';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway } from '../helpers/gateway';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis';

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) } });
  return { logger, lines };
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the shared store (a real redis-server)', () => {
  let redis: TestRedis;
  const open: SharedStore[] = [];
  const connect = async (logger = createLogger({ level: 'silent' }), prefix = 'test:') => {
    const store = await SharedStore.connect({ url: redis.url, logger, prefix });
    open.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await Promise.all(open.map((store) => store.close()));
    await redis?.stop();
  });

  it('refuses to start against a Redis that does not answer, naming the host but never the password', async () => {
    const port = await freePort();
    const failure = SharedStore.connect({ url: `redis://:hunter2-secret@127.0.0.1:${port}`, logger: createLogger({ level: 'silent' }), connectTimeoutMs: 2_000 });
    await expect(failure).rejects.toThrow(SharedStoreUnavailable);
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).not.toContain('hunter2');
  });

  it('shares a FetchCache between two replicas through keyv on Redis: what one fetched, the other reads without fetching', async () => {
    const [a, b] = [await connect(), await connect()];
    const cacheA = new FetchCache<{ events: number[] }>({ namespace: 'batches', shared: a.cacheLayer('batches') });
    const cacheB = new FetchCache<{ events: number[] }>({ namespace: 'batches', shared: b.cacheLayer('batches') });
    let fetches = 0;
    const fetch = async () => {
      fetches += 1;
      return { events: [1, 2, 3] };
    };
    expect(await cacheA.getOrFetch('k1', fetch)).toEqual({ result: { events: [1, 2, 3] }, cached: false });
    expect(await cacheB.getOrFetch('k1', fetch)).toEqual({ result: { events: [1, 2, 3] }, cached: true });
    expect(fetches).toBe(1);
    // Kept locally once read: the next lookup needs no Redis round trip.
    expect(await cacheB.peek('k1')).toEqual({ events: [1, 2, 3] });
  });

  it('counts hits of a window across replicas, with the time left', async () => {
    const [a, b] = [await connect(), await connect()];
    const counts = [];
    for (let i = 0; i < 3; i++) {
      counts.push((await a.hitWindow('rate:client-1', 60_000)).count);
      counts.push((await b.hitWindow('rate:client-1', 60_000)).count);
    }
    expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
    const { resetInMs } = await a.hitWindow('rate:client-1', 60_000);
    expect(resetInMs).toBeGreaterThan(0);
    expect(resetInMs).toBeLessThanOrEqual(60_000);
    expect((await a.hitWindow('rate:client-2', 60_000)).count).toBe(1);
  });

  it('spends amounts from a window across replicas only while they fit under the limit, and reads it without starting one', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(await a.spendWindow('cost:reader', 3_600_000, 0)).toEqual({ spent: false, count: 0, resetInMs: 3_600_000 });
    // Reading started no window: the first spending does.
    expect(await a.exists('cost:reader')).toBe(false);
    expect(await a.spendWindow('cost:reader', 3_600_000, 40, 100)).toMatchObject({ spent: true, count: 40 });
    expect(await b.spendWindow('cost:reader', 3_600_000, 50, 100)).toMatchObject({ spent: true, count: 90 });
    // 90 + 20 is over the limit: refused, and not counted.
    expect(await a.spendWindow('cost:reader', 3_600_000, 20, 100)).toMatchObject({ spent: false, count: 90 });
    const last = await b.spendWindow('cost:reader', 3_600_000, 10, 100);
    expect(last).toMatchObject({ spent: true, count: 100 });
    expect(last.resetInMs).toBeGreaterThan(3_500_000);
    expect(last.resetInMs).toBeLessThanOrEqual(3_600_000);
    // Without a limit, it only counts.
    expect(await a.spendWindow('cost:reader', 3_600_000, 7)).toMatchObject({ spent: true, count: 107 });
  });

  it('makes two gateways sharing Redis spend one cost budget per caller: what one spent, the other refuses with 429 COST_BUDGET', async () => {
    const server = { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: null, costPerHour: 30 }, cache: { redisUrl: redis.url } };
    const one = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], server);
    const two = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], server);
    try {
      const page = 'query ($first: Int) { auditEvents(first: $first) { nodes { id } } }';
      const first = await one.query(page, { first: 12 });
      const second = await two.query(page, { first: 12 });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect([first.headers['x-ratelimit-remaining'], second.headers['x-ratelimit-remaining']]).toEqual(['18', '6']);
      const upstream = one.simulators.get('nirvana-main')!.control.stats.requests;
      const refused = await one.query(page, { first: 12 });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'COST_BUDGET', cost: 12, remaining: 6, limit: 30 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3_500);
      expect(one.simulators.get('nirvana-main')!.control.stats.requests).toBe(upstream);
      // Nothing was spent for the refusal: the other gateway still has 6 to give.
      expect((await two.query(page, { first: 6 })).headers['x-ratelimit-remaining']).toBe('0');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('holds leases for one holder: others can neither take, renew nor release them', async () => {
    const store = await connect();
    expect(await store.takeLease('lease:x', 'replica-a', 60_000)).toBe(true);
    expect(await store.takeLease('lease:x', 'replica-b', 60_000)).toBe(false);
    expect(await store.renewLease('lease:x', 'replica-b', 60_000)).toBe(false);
    await store.releaseLease('lease:x', 'replica-b');
    expect(await store.get('lease:x')).toBe('replica-a');
    expect(await store.renewLease('lease:x', 'replica-a', 60_000)).toBe(true);
    await store.releaseLease('lease:x', 'replica-a');
    expect(await store.get('lease:x')).toBeNull();
    // A lease that lapsed (Redis lost it, say) is taken back by its holder's next renewal.
    expect(await store.renewLease('lease:x', 'replica-a', 60_000)).toBe(true);
    expect(await store.get('lease:x')).toBe('replica-a');
  });

  it('limits a client across two replicas: the admitted requests of both together stay within the limit', async () => {
    const [a, b] = [await connect(), await connect()];
    const limits = { maxInFlight: 4, maxQueued: 4, perClientPerMinute: 5 };
    const replicas = [new Admission(limits, { shared: a }), new Admission(limits, { shared: b })];
    const outcomes = [];
    for (let i = 0; i < 12; i++) outcomes.push(await replicas[i % 2]!.run('principal:team', async () => 'ok'));
    expect(outcomes.filter((outcome) => outcome.admitted)).toHaveLength(5);
    const refused = outcomes.find((outcome) => !outcome.admitted);
    expect(refused && !refused.admitted ? refused.refusal : null).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    if (refused && !refused.admitted) expect(refused.refusal.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('degrades to local behaviour while Redis is down, warns once, and uses Redis again when it is back', async () => {
    const { logger, lines } = capturedLogger();
    const store = await connect(logger);
    const cache = new FetchCache<{ n: number }>({ namespace: 'degrade', shared: store.cacheLayer('degrade') });
    const admission = new Admission({ maxInFlight: 4, maxQueued: 4, perClientPerMinute: 2 }, { shared: store });
    await redis.kill();
    try {
      // Caches fetch, rate limits count in the process, nothing throws.
      expect(await cache.getOrFetch('a', async () => ({ n: 1 }))).toEqual({ result: { n: 1 }, cached: false });
      await expect(store.hitWindow('rate:x', 60_000)).rejects.toThrow(SharedStoreUnavailable);
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push((await admission.run('address:1', async () => 'ok')).admitted);
      expect(outcomes).toEqual([true, true, false]);
      // The cost budget too: counted in the process meanwhile, refusing what no longer fits.
      const budgeted = new Admission({ maxInFlight: 4, maxQueued: 4, perClientPerMinute: null, costPerHour: 10 }, { shared: store });
      expect(await budgeted.spend('address:1', 6)).toMatchObject({ refusal: null, status: { remaining: 4 } });
      expect(await budgeted.spend('address:1', 6)).toMatchObject({ refusal: { cost: 6, remaining: 4, limit: 10 }, status: { remaining: 4 } });
      expect(lines.filter((line) => line.msg.startsWith('shared store (Redis) unavailable'))).toHaveLength(1);
    } finally {
      await redis.start();
    }
    await eventually(async () => (store.available ? true : undefined), 'the client to reconnect');
    expect((await store.hitWindow('rate:after', 60_000)).count).toBe(1);
    expect(lines.some((line) => line.msg === 'shared store (Redis) is back')).toBe(true);
  }, 60_000);
});
