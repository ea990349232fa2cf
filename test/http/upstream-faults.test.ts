import { ErrorCode, UpstreamError } from '../../src/errors';
import { DEFAULT_TIMEOUTS, UpstreamClient, type UpstreamTimeouts } from '../../src/http/upstream-client';
import { createLogger } from '../../src/logger';
import { SourceHealthTracker } from '../../src/sources/health';
import { startSimulatorServer, type RunningSimulatorServer } from '../../src/simulation/server';

/**
 * The upstream faults of docs/reliability.md (U rows), against a real HTTP server on loopback.
 */
describe('UpstreamClient against a faulty upstream', () => {
  let upstream: RunningSimulatorServer;
  const logLines: string[] = [];

  beforeAll(async () => {
    upstream = await startSimulatorServer({
      errorBody: (status, message) => ({ message, status }),
      routes: [{ method: 'GET', pattern: '/items', handle: () => ({ status: 200, json: { items: [1, 2, 3] } }) }],
    });
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  beforeEach(() => {
    upstream.control.resetStats();
    logLines.length = 0;
  });

  function client(timeouts: Partial<UpstreamTimeouts> = {}, secrets: string[] = []): UpstreamClient {
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
    return new UpstreamClient({
      sourceId: 'faulty',
      baseUrl: upstream.baseUrl,
      timeouts: { ...DEFAULT_TIMEOUTS, ...timeouts },
      retry: { maxRetries: 2, minDelayMs: 20, maxDelayMs: 100 },
      maxConnections: 4,
      maxResponseBytes: 1024 * 1024,
      allowPrivateNetwork: true,
      logger,
      health: new SourceHealthTracker(),
      secrets,
    });
  }

  async function failure(http: UpstreamClient, headers: Record<string, string> = {}): Promise<UpstreamError> {
    try {
      await http.request({ method: 'GET', path: '/items', headers, signal: AbortSignal.timeout(20_000) });
    } catch (error) {
      expect(error).toBeInstanceOf(UpstreamError);
      return error as UpstreamError;
    } finally {
      await http.close();
    }
    throw new Error('expected a failure');
  }

  it('answers normally', async () => {
    const http = client();
    const response = await http.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(5000) });
    expect(response.body).toEqual({ items: [1, 2, 3] });
    await http.close();
  });

  it('stops a slow drip at the overall deadline, which bodyTimeout alone would not', async () => {
    upstream.control.inject({ kind: 'slow-drip', byteIntervalMs: 50 });
    const started = Date.now();
    const error = await failure(client({ requestMs: 600, bodyMs: 5000 }));
    expect(error.code).toBe(ErrorCode.UpstreamTimeout);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(540);
    expect(elapsed).toBeLessThan(1500);
  });

  it('gives UPSTREAM_TIMEOUT when headers never come', async () => {
    upstream.control.inject({ kind: 'no-headers' });
    const error = await failure(client({ headersMs: 300, requestMs: 2000 }));
    expect(error.code).toBe(ErrorCode.UpstreamTimeout);
  });

  it('cuts a body larger than maxResponseBytes', async () => {
    upstream.control.inject({ kind: 'huge', bytes: 5 * 1024 * 1024 });
    const error = await failure(client());
    expect(error.code).toBe(ErrorCode.UpstreamResponseTooLarge);
  });

  it('refuses an HTML page without parsing it', async () => {
    upstream.control.inject({ kind: 'html' });
    expect((await failure(client())).code).toBe(ErrorCode.UpstreamMalformedResponse);
  });

  it('refuses invalid JSON without passing the body on', async () => {
    upstream.control.inject({ kind: 'invalid-json' });
    const error = await failure(client());
    expect(error.code).toBe(ErrorCode.UpstreamMalformedResponse);
    expect(error.message).not.toContain('items');
  });

  it('never follows a redirect to another host', async () => {
    upstream.control.inject({ kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data' });
    const error = await failure(client());
    expect(error.code).toBe(ErrorCode.UpstreamProtocolError);
    expect(upstream.control.stats.requests).toBe(1);
  });

  it('retries a connection reset once more and then answers', async () => {
    upstream.control.inject({ kind: 'reset' });
    const http = client();
    const response = await http.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(5000) });
    expect(response.body).toEqual({ items: [1, 2, 3] });
    expect(upstream.control.stats.requests).toBe(2);
    await http.close();
  });

  it('retries 500/502/503/504 at most twice, then UPSTREAM_UNAVAILABLE with the status', async () => {
    upstream.control.inject({ kind: 'status', status: 502 }, 3);
    const error = await failure(client());
    expect(error.code).toBe(ErrorCode.UpstreamUnavailable);
    expect(error.extensions['httpStatus']).toBe(502);
    expect(upstream.control.stats.requests).toBe(3);
  });

  it('does not retry 400 or 404', async () => {
    upstream.control.inject({ kind: 'status', status: 404 });
    const error = await failure(client());
    expect(error.code).toBe(ErrorCode.UpstreamBadRequest);
    expect(upstream.control.stats.requests).toBe(1);
  });

  it('does not retry 401/403 and never logs the credential', async () => {
    upstream.control.inject({ kind: 'status', status: 401, json: { message: 'bad token CANARY-secret-1234' } });
    const error = await failure(client({}, ['CANARY-secret-1234']), { authorization: 'Bearer CANARY-secret-1234' });
    expect(error.code).toBe(ErrorCode.UpstreamAuthFailed);
    expect(upstream.control.stats.requests).toBe(1);
    expect(logLines.join('\n')).not.toContain('CANARY-secret-1234');
    expect(JSON.stringify(error.extensions) + error.message).not.toContain('CANARY');
  });

  it('waits at least Retry-After before retrying a 429', async () => {
    upstream.control.inject({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const http = client();
    const started = Date.now();
    await http.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(5000) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(upstream.control.stats.requests).toBe(2);
    await http.close();
  });

  it('does not wait for a Retry-After beyond the deadline, and stops calling the source until it passes', async () => {
    upstream.control.inject({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    const http = client();
    const started = Date.now();
    const first = await http.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e as UpstreamError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(first).toBeInstanceOf(UpstreamError);
    expect((first as UpstreamError).code).toBe(ErrorCode.UpstreamRateLimited);
    expect((first as UpstreamError).extensions['retryAfterSeconds']).toBe(120);
    // 50 more calls while the gate is closed: none reaches the upstream.
    const more = await Promise.all(Array.from({ length: 50 }, () => http.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e)));
    expect(more.every((e) => e instanceof UpstreamError && e.code === ErrorCode.UpstreamRateLimited)).toBe(true);
    expect(upstream.control.stats.requests).toBe(1);
    await http.close();
  });

  it('uses x-ratelimit-reset when a 429 has no Retry-After', async () => {
    const reset = Math.floor(Date.now() / 1000) + 300;
    upstream.control.inject({ kind: 'status', status: 429, headers: { 'x-ratelimit-reset': String(reset) } });
    const error = await failure(client());
    expect(error.code).toBe(ErrorCode.UpstreamRateLimited);
    expect(error.extensions['retryAfterSeconds']).toBeGreaterThan(250);
  });
});

describe('retryAfterMs', () => {
  const { retryAfterMs } = jest.requireActual<typeof import('../../src/http/retry-after')>('../../src/http/retry-after');
  const now = Date.UTC(2026, 0, 1);

  it('reads seconds, HTTP dates and milliseconds', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, now, 429)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': new Date(now + 5000).toUTCString() }, now, 503)).toBe(5000);
    expect(retryAfterMs({ 'retry-after-ms': '150' }, now, 429)).toBe(150);
  });

  it('uses x-ratelimit-reset for a 429 only, since Port sends it on every response', () => {
    const headers = { 'x-ratelimit-reset': String(now / 1000 + 30) };
    expect(retryAfterMs(headers, now, 429)).toBe(30_000);
    expect(retryAfterMs(headers, now, 503)).toBeUndefined();
  });
});
