import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SharedStore } from '../../src/cache/redis-store';
import { UpstreamError } from '../../src/errors';
import { RedisCircuitState } from '../../src/http/shared-circuit';
import { DEFAULT_TIMEOUTS, UpstreamClient } from '../../src/http/upstream-client';
import { createLogger } from '../../src/logger';
import { SourceHealthTracker } from '../../src/sources/health';
import { startTestRedis, type TestRedis } from '../helpers/redis';

describe('circuit breakers shared through Redis', () => {
  let redis: TestRedis;
  let upstream: http.Server;
  let baseUrl: string;
  let requests = 0;
  let healthy = false;
  const stores: SharedStore[] = [];
  const clients: UpstreamClient[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    upstream = http.createServer((_req, res) => {
      requests += 1;
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(healthy ? '{"ok":true}' : '{"error":"down"}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(stores.map((store) => store.close()));
    await new Promise((resolve) => upstream?.close(resolve));
    await redis?.stop();
  });

  /** One replica's client of the same source, with its own connection to Redis. */
  async function replica(): Promise<UpstreamClient> {
    const logger = createLogger({ level: 'silent' });
    const store = await SharedStore.connect({ url: redis.url, logger, prefix: 'circuit-test:' });
    stores.push(store);
    const client = new UpstreamClient({
      sourceId: 'flaky',
      baseUrl,
      timeouts: DEFAULT_TIMEOUTS,
      retry: { maxRetries: 0, minDelayMs: 10, maxDelayMs: 50 },
      circuitBreaker: { threshold: 2, halfOpenAfterMs: 200 },
      maxConnections: 2,
      maxResponseBytes: 1024 * 1024,
      allowPrivateNetwork: true,
      logger,
      health: new SourceHealthTracker(),
      secrets: [],
      sharedCircuit: new RedisCircuitState(store),
    });
    clients.push(client);
    return client;
  }

  const call = async (client: UpstreamClient) => {
    try {
      await client.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(20_000) });
      return 'ok';
    } catch (error) {
      if (error instanceof UpstreamError) return error.code;
      throw error;
    }
  };

  it('fails fast on every replica once one opened its circuit, and lets them call again after its probe succeeds', async () => {
    const [a, b] = [await replica(), await replica()];
    expect(await call(a)).toBe('UPSTREAM_UNAVAILABLE');
    expect(await call(a)).toBe('UPSTREAM_UNAVAILABLE');
    expect(a.circuit).toBe('OPEN');
    // A writes the record as its breaker opens, without holding up the call that opened it.
    for (let waited = 0; (await stores[0]!.get('circuit:flaky')) === null; waited += 1) {
      if (waited > 200) throw new Error('the open circuit never reached Redis');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const before = requests;

    // B never saw a failure itself, yet sends nothing while A's circuit is open.
    expect(await call(b)).toBe('UPSTREAM_UNAVAILABLE');
    expect(requests).toBe(before);
    expect(b.circuit).toBe('OPEN');

    healthy = true;
    // A probes once its open period ends; the success clears the shared record for B.
    const deadline = Date.now() + 20_000;
    while ((await call(a)) !== 'ok') {
      if (Date.now() > deadline) throw new Error('A never probed the upstream');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await call(b)).toBe('ok');
    expect(b.circuit).toBe('CLOSED');
  }, 60_000);
});
