import { Admission } from '../../src/admission';
import { FetchCache } from '../../src/cache/fetch-cache';
import { SharedStore, SharedStoreUnavailable } from '../../src/cache/redis-store';
import { createLogger } from '../../src/logger';
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
      expect(lines.filter((line) => line.msg.startsWith('shared store (Redis) unavailable'))).toHaveLength(1);
    } finally {
      await redis.start();
    }
    await eventually(async () => (store.available ? true : undefined), 'the client to reconnect');
    expect((await store.hitWindow('rate:after', 60_000)).count).toBe(1);
    expect(lines.some((line) => line.msg === 'shared store (Redis) is back')).toBe(true);
  }, 60_000);
});
