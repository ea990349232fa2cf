import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, UpstreamError } from '../../src/errors';
import { DEFAULT_TIMEOUTS, UpstreamClient, type CircuitBreakerSettings, type RetryPolicy } from '../../src/http/upstream-client';
import { createLogger } from '../../src/logger';
import { SourceHealthTracker } from '../../src/sources/health';
import { startSimulatorServer, type RunningSimulatorServer } from '../../src/simulation/server';

/**
 * Retries that stay honest under load, against real HTTP servers on loopback: backoff that grows
 * and is jittered, a retry budget per source, one shared wait for a Retry-After, and a circuit
 * breaker. Every assertion counts requests; none times them.
 */

interface Harness {
  client: UpstreamClient;
  health: SourceHealthTracker;
  logLines: string[];
}

function harness(baseUrl: string, retry: Partial<RetryPolicy>, options: { circuitBreaker?: CircuitBreakerSettings; maxConnections?: number } = {}): Harness {
  const logLines: string[] = [];
  const health = new SourceHealthTracker();
  const client = new UpstreamClient({
    sourceId: 'resilient',
    baseUrl,
    timeouts: DEFAULT_TIMEOUTS,
    retry: { maxRetries: 2, minDelayMs: 20, maxDelayMs: 100, ...retry },
    ...(options.circuitBreaker ? { circuitBreaker: options.circuitBreaker } : {}),
    maxConnections: options.maxConnections ?? 8,
    maxResponseBytes: 1024 * 1024,
    allowPrivateNetwork: true,
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
    health,
    secrets: [],
  });
  return { client, health, logLines };
}

/** The call's response status, or the UpstreamError it threw. */
async function call(client: UpstreamClient, signal: AbortSignal = AbortSignal.timeout(20_000)): Promise<number | UpstreamError> {
  try {
    return (await client.request({ method: 'GET', path: '/items', signal })).status;
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
}

function simulator(): Promise<RunningSimulatorServer> {
  return startSimulatorServer({
    seed: 11,
    errorBody: (status, message) => ({ message, status }),
    routes: [{ method: 'GET', pattern: '/items', handle: () => ({ status: 200, json: { items: [1, 2, 3] } }) }],
  });
}

describe('backoff in the client', () => {
  let upstream: RunningSimulatorServer;
  beforeAll(async () => {
    upstream = await simulator();
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('counts the retries of a call: the backoff ceiling doubles from one retry to the next', async () => {
    upstream.control.inject({ kind: 'status', status: 503 }, 3);
    // The highest draw: each retry waits just under its ceiling, 20 ms then 40 ms.
    jest.spyOn(Math, 'random').mockReturnValue(0.9999);
    const { client, logLines } = harness(upstream.baseUrl, { maxRetries: 2, minDelayMs: 20, maxDelayMs: 1000 });
    try {
      const error = await call(client);
      expect(error).toBeInstanceOf(UpstreamError);
      const retries = logLines.map((line) => JSON.parse(line) as { msg: string; attempt?: number; delayMs?: number }).filter((line) => line.msg === 'retrying upstream call');
      expect(retries.map(({ attempt, delayMs }) => ({ attempt, delayMs }))).toEqual([
        { attempt: 1, delayMs: 19 },
        { attempt: 2, delayMs: 39 },
      ]);
    } finally {
      await client.close();
    }
  });
});

describe('retry budget', () => {
  let upstream: RunningSimulatorServer;
  beforeAll(async () => {
    upstream = await simulator();
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  it('keeps retries within 10 % of the calls (plus the floor) when 30 % of requests fail with 503', async () => {
    // The simulator's error draws are seeded: the same requests fail on every run.
    upstream.control.knobs.errorRate = 0.3;
    upstream.control.resetStats();
    // A breaker that never opens here, so that every call reaches the upstream.
    const { client } = harness(upstream.baseUrl, { minDelayMs: 1, maxDelayMs: 2 }, { circuitBreaker: { threshold: 1000, halfOpenAfterMs: 10_000 } });
    const calls = 500;
    let failed = 0;
    try {
      for (let i = 0; i < calls; i++) if ((await call(client)) instanceof UpstreamError) failed += 1;
    } finally {
      upstream.control.knobs.errorRate = 0;
      await client.close();
    }
    const requests = upstream.control.stats.requests;
    // Without a budget every failed request retried: about 1.39 requests a call. With it, while
    // the calls fit in one 10 s window: the floor (10) plus 0.1 per first attempt (50).
    expect(requests).toBeLessThanOrEqual(1.15 * calls);
    // It is a budget, not a ban: retries still happen, and rescue calls.
    expect(requests).toBeGreaterThan(calls);
    expect(failed).toBeLessThan(0.3 * calls);
  });
});

/**
 * An upstream that refuses its first `refused` requests with 429 and `Retry-After: 1`, then
 * answers 200; the first request after them (the probe) is held `holdProbeMs`, and the requests
 * that arrive while it is held are counted.
 */
async function rateLimitedUpstream(refused: number, holdProbeMs: number): Promise<{ baseUrl: string; requests: () => number; arrivedWhileProbeHeld: () => number; stop: () => Promise<void> }> {
  let requests = 0;
  let probeHeld = false;
  let arrivedWhileProbeHeld = 0;
  const server = http.createServer((req, res) => {
    const index = requests++;
    if (probeHeld) arrivedWhileProbeHeld += 1;
    req.resume();
    const answer = (status: number, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(status === 200 ? { items: [index] } : { message: 'slow down' }));
    };
    if (index < refused) return answer(429, { 'retry-after': '1' });
    if (index === refused && holdProbeMs > 0) {
      probeHeld = true;
      setTimeout(() => {
        probeHeld = false;
        answer(200);
      }, holdProbeMs);
      return;
    }
    answer(200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests: () => requests,
    arrivedWhileProbeHeld: () => arrivedWhileProbeHeld,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('one shared wait per source for a Retry-After', () => {
  const CALLERS = 30;

  it('after the wait lets one probe go first, and the other callers only once it is answered', async () => {
    const upstream = await rateLimitedUpstream(CALLERS, 300);
    // A budget that allows every retry: this is about when the retries go, not how many.
    const { client } = harness(upstream.baseUrl, { budgetRatio: 1 }, { maxConnections: CALLERS });
    try {
      const results = await Promise.all(Array.from({ length: CALLERS }, () => call(client)));
      expect(results).toEqual(Array.from({ length: CALLERS }, () => 200));
      // Each caller was refused once and retried once, but none while the probe was held.
      expect(upstream.requests()).toBe(2 * CALLERS);
      expect(upstream.arrivedWhileProbeHeld()).toBe(0);
    } finally {
      await client.close();
      await upstream.stop();
    }
  });

  it('makes the retries of a refused wave fit the budget: 30 callers refused cost at most 30 + 3 requests', async () => {
    const upstream = await rateLimitedUpstream(CALLERS, 0);
    // The budget's ratio alone (no per-second floor): 10 % of 30 first attempts is 3 retries.
    const { client } = harness(upstream.baseUrl, { budgetRatio: 0.1, minRetriesPerSecond: 0 }, { maxConnections: CALLERS });
    try {
      const results = await Promise.all(Array.from({ length: CALLERS }, () => call(client)));
      expect(upstream.requests()).toBeLessThanOrEqual(CALLERS + 3);
      expect(results.filter((result) => result === 200)).toHaveLength(3);
      const refused = results.filter((result): result is UpstreamError => result instanceof UpstreamError);
      // The others get the rate limit at once, with the upstream's own wait to pass on.
      expect(refused).toHaveLength(CALLERS - 3);
      expect(refused.every((error) => error.code === ErrorCode.UpstreamRateLimited && error.retryAfterSeconds === 1)).toBe(true);
    } finally {
      await client.close();
      await upstream.stop();
    }
  });
});

describe('circuit breaker', () => {
  let upstream: RunningSimulatorServer;
  beforeAll(async () => {
    upstream = await simulator();
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  beforeEach(() => {
    upstream.control.knobs.errorRate = 0;
    upstream.control.resetStats();
  });

  const BREAKER: CircuitBreakerSettings = { threshold: 3, halfOpenAfterMs: 200 };

  it('opens after threshold failed calls: then fails at once, sends nothing, and one probe after the pause closes it', async () => {
    const { client, health } = harness(upstream.baseUrl, { maxRetries: 1, minDelayMs: 1, maxDelayMs: 2 }, { circuitBreaker: BREAKER });
    try {
      upstream.control.knobs.errorRate = 1;
      for (let i = 0; i < BREAKER.threshold; i++) {
        const error = await call(client);
        expect({ i, code: (error as UpstreamError).code, status: (error as UpstreamError).httpStatus }).toEqual({ i, code: ErrorCode.UpstreamUnavailable, status: 503 });
      }
      expect(client.circuit).toBe('OPEN');
      expect(health.snapshot()).toMatchObject({ circuit: 'OPEN', status: 'DOWN' });

      upstream.control.resetStats();
      const fast = await Promise.all(Array.from({ length: 10 }, () => call(client)));
      expect(upstream.control.stats.requests).toBe(0);
      for (const error of fast) {
        expect(error).toBeInstanceOf(UpstreamError);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamUnavailable);
        expect((error as UpstreamError).logDetail).toEqual({ reason: 'circuit open' });
      }

      // After the pause one call probes; while the upstream still fails, only that one reaches it.
      await sleep(BREAKER.halfOpenAfterMs + 50);
      const failedProbe = await Promise.all(Array.from({ length: 5 }, () => call(client)));
      expect(upstream.control.stats.requests).toBe(1);
      expect(failedProbe.every((error) => error instanceof UpstreamError && error.code === ErrorCode.UpstreamUnavailable)).toBe(true);
      expect(client.circuit).toBe('OPEN');

      // Once it recovers, the probe succeeds and closes the circuit; the waiting calls follow.
      upstream.control.knobs.errorRate = 0;
      upstream.control.resetStats();
      await sleep(BREAKER.halfOpenAfterMs + 50);
      const recovered = await Promise.all(Array.from({ length: 5 }, () => call(client)));
      expect(recovered).toEqual([200, 200, 200, 200, 200]);
      expect(upstream.control.stats.requests).toBe(5);
      expect(client.circuit).toBe('CLOSED');
      expect(health.snapshot()).toMatchObject({ circuit: 'CLOSED', status: 'UP' });
    } finally {
      await client.close();
    }
  });

  it('never opens for 4xx answers, which are never retried either', async () => {
    const { client, health } = harness(upstream.baseUrl, {}, { circuitBreaker: { threshold: 2, halfOpenAfterMs: 60_000 } });
    try {
      for (const status of [400, 404, 401, 403, 404, 409]) {
        upstream.control.inject({ kind: 'status', status });
        const before = upstream.control.stats.requests;
        const error = await call(client);
        expect({ status, sent: upstream.control.stats.requests - before, failed: error instanceof UpstreamError }).toEqual({ status, sent: 1, failed: true });
      }
      expect(health.snapshot().circuit).toBe('CLOSED');
      expect(await call(client)).toBe(200);
    } finally {
      await client.close();
    }
  });

  it('never counts a call its client gave up on', async () => {
    const { client, health } = harness(upstream.baseUrl, {}, { circuitBreaker: { threshold: 2, halfOpenAfterMs: 60_000 } });
    try {
      upstream.control.inject({ kind: 'blackhole' }, 4);
      for (let i = 0; i < 4; i++) {
        const before = upstream.control.stats.requests;
        const controller = new AbortController();
        const pending = call(client, controller.signal);
        // Abort once the upstream holds the request, so that each call takes one blackhole.
        while (upstream.control.stats.requests === before) await sleep(2);
        controller.abort(new Error('client went away'));
        expect(await pending).toBeInstanceOf(UpstreamError);
      }
      await upstream.control.idle();
      expect(health.snapshot().circuit).toBe('CLOSED');
      expect(health.snapshot().status).toBe('UNKNOWN');
      const before = upstream.control.stats.requests;
      expect(await call(client)).toBe(200);
      expect(upstream.control.stats.requests - before).toBe(1);
    } finally {
      await client.close();
    }
  });
});
