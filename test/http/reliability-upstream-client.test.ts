import dns from 'node:dns';
import { ErrorCode, UpstreamError } from '../../src/errors';
import { DEFAULT_TIMEOUTS, UpstreamClient } from '../../src/http/upstream-client';
import { isPrivateAddress } from '../../src/http/ssrf';
import { createLogger } from '../../src/logger';
import { SourceHealthTracker } from '../../src/sources/health';
import { startSimulatorServer, type RunningSimulatorServer } from '../../src/simulation/server';

/**
 * Upstream-client faults of docs/reliability.md not covered by upstream-faults.test.ts: a 50 MB
 * body against the default 10 MiB cap (memory), and addresses refused at connect time.
 */
describe('UpstreamClient: oversized bodies and connect-time address checks', () => {
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
  afterEach(() => {
    jest.restoreAllMocks();
  });

  function client(baseUrl: string, allowPrivateNetwork: boolean, maxResponseBytes = 10 * 1024 * 1024): UpstreamClient {
    return new UpstreamClient({
      sourceId: 'faulty',
      baseUrl,
      timeouts: DEFAULT_TIMEOUTS,
      retry: { maxRetries: 2, minDelayMs: 10, maxDelayMs: 50 },
      maxConnections: 4,
      maxResponseBytes,
      allowPrivateNetwork,
      logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
      health: new SourceHealthTracker(),
      secrets: [],
    });
  }

  async function failure(http: UpstreamClient): Promise<UpstreamError> {
    try {
      await http.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(20_000) });
    } catch (error) {
      expect(error).toBeInstanceOf(UpstreamError);
      return error as UpstreamError;
    } finally {
      await http.close();
    }
    throw new Error('expected a failure');
  }

  it('cuts a 50 MB body at the default 10 MiB cap without holding it: UPSTREAM_RESPONSE_TOO_LARGE, RSS rise under 30 MB, no body in the error or log', async () => {
    upstream.control.inject({ kind: 'huge', bytes: 50 * 1024 * 1024 });
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    let error: UpstreamError;
    try {
      error = await failure(client(upstream.baseUrl, true));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(error.code).toBe(ErrorCode.UpstreamResponseTooLarge);
    expect(error.extensions).toEqual({ code: 'UPSTREAM_RESPONSE_TOO_LARGE', source: 'faulty' });
    expect(error.message).toBe("The upstream of source 'faulty' sent a response larger than the gateway accepts");
    expect(peak - baseline).toBeLessThan(30 * 1024 * 1024);
    expect(logLines.join('')).not.toMatch(/ {100}/);
    expect(upstream.control.stats.requests).toBe(1);
  });

  it('refuses at connect time a host name that resolves to loopback, when private networks are not allowed: no request reaches it', async () => {
    const { port } = new URL(upstream.baseUrl);
    const error = await failure(client(`http://localhost:${port}`, false));
    expect(error.code).toBe(ErrorCode.UpstreamUnreachable);
    expect(error.message).not.toMatch(/localhost|127\.0\.0\.1|::1|EADDRREFUSED/);
    expect(upstream.control.stats.requests).toBe(0);
    expect(logLines.join('')).toContain('"errno":"EADDRREFUSED_SSRF"');
    // The control: the same name is reached when private networks are allowed.
    const allowed = client(`http://localhost:${port}`, true);
    try {
      expect((await allowed.request({ method: 'GET', path: '/items', signal: AbortSignal.timeout(5000) })).body).toEqual({ items: [1, 2, 3] });
    } finally {
      await allowed.close();
    }
  });

  const disguised = ['::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', '198.18.0.1', '192.0.0.1', 'fec0::1'];

  it.each(disguised)('judges %s private, like the plain private ranges', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(disguised)('refuses at connect time a name that resolves (DNS rebinding) to %s', async (address) => {
    const { port } = new URL(upstream.baseUrl);
    const realLookup = dns.lookup.bind(dns);
    const spy = jest.spyOn(dns, 'lookup').mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => {
      if (hostname !== 'rebound.example.com') return (realLookup as (h: string, o: dns.LookupOptions, c: typeof callback) => void)(hostname, options, callback);
      callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
    }) as unknown as typeof dns.lookup);
    const error = await failure(client(`http://rebound.example.com:${port}`, false));
    expect(spy).toHaveBeenCalled();
    expect(error.code).toBe(ErrorCode.UpstreamUnreachable);
    expect(JSON.stringify(error.extensions) + error.message).not.toContain(address);
    // Refused by the guard (not merely unreachable), and the refusal is in the log for operators.
    expect(logLines.join('')).toContain('"errno":"EADDRREFUSED_SSRF"');
    expect(upstream.control.stats.requests).toBe(0);
  });
});
