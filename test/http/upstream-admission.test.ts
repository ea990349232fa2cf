import { setTimeout as sleep } from 'node:timers/promises';
import { AdaptiveConcurrency, type Place } from '../../src/adaptive-concurrency';
import { bindRequestScope } from '../../src/http/observation';
import { DEFAULT_TIMEOUTS, UpstreamClient } from '../../src/http/upstream-client';
import { createLogger } from '../../src/logger';
import { SourceHealthTracker } from '../../src/sources/health';
import { startSimulatorServer, type RunningSimulatorServer } from '../../src/simulation/server';

/**
 * The upstream client and admission together, over a real upstream on loopback: a request parked
 * while its upstream took its time gets its answer only once admission has a place for it again.
 */
describe('an upstream answer to a parked request', () => {
  let upstream: RunningSimulatorServer;
  let client: UpstreamClient;
  let gate: AdaptiveConcurrency;

  beforeAll(async () => {
    upstream = await startSimulatorServer({
      seed: 3,
      errorBody: (status, message) => ({ message, status }),
      routes: [{ method: 'GET', pattern: '/items', handle: () => ({ status: 200, json: { items: [1, 2, 3] } }) }],
    });
    client = new UpstreamClient({
      sourceId: 'parked',
      baseUrl: upstream.baseUrl,
      timeouts: DEFAULT_TIMEOUTS,
      retry: { maxRetries: 0, minDelayMs: 10, maxDelayMs: 10 },
      maxConnections: 2,
      maxResponseBytes: 1024 * 1024,
      allowPrivateNetwork: true,
      logger: createLogger({ level: 'silent' }),
      health: new SourceHealthTracker(),
      secrets: [],
    });
  });
  afterAll(async () => {
    gate?.close();
    await client?.close();
    await upstream?.stop();
  });

  it('waits for a running request to end before the call returns, and returns the answer then', async () => {
    // Two places; a busy interval cuts the limit to one, which `other` holds once `parked` parks.
    gate = new AdaptiveConcurrency({ min: 1, max: 2, maxWaiting: 10, sampleMs: 3_600_000, parkAfterMs: 0, utilization: () => 0 });
    const [parked, other] = (await Promise.all([gate.acquire(), gate.acquire()])) as Place[];
    gate.adjust(0.95);
    expect(gate.limit).toBe(1);

    const controller = new AbortController();
    bindRequestScope(controller.signal, { logger: createLogger({ level: 'silent' }), traceContext: undefined, upstreamRequests: 0, awaitingUpstream: () => parked!.awaitingUpstream() });
    upstream.control.knobs.latencyMs = 200;
    let settled = false;
    const call = client.request({ method: 'GET', path: '/items', signal: controller.signal }).finally(() => (settled = true));
    // While the upstream takes its time, the request parks.
    await sleep(20);
    gate.adjust(0.1);
    expect(gate.load).toEqual({ running: 2, parked: 1, waiting: 0 });

    // The upstream has answered; the call still waits: the one place that counts is taken.
    while (upstream.control.stats.requests < 1) await sleep(5);
    await upstream.control.idle();
    await sleep(50);
    expect(settled).toBe(false);
    expect(gate.load.parked).toBe(1);

    other!.release();
    const response = await call;
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [1, 2, 3] });
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 0 });
    parked!.release();
    upstream.control.knobs.latencyMs = 0;
  });
});
