import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { unit } from './random';

/** A parsed simulator request. */
export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The JSON body, when one was sent. */
  body: unknown;
}

/** A simulator response; `json` is serialised, `raw` sent as is. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string;
}

/** A fault a test can make the next requests suffer. */
export type InjectedFault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; json?: unknown }
  | { kind: 'invalid-json' }
  | { kind: 'html' }
  | { kind: 'blackhole' }
  | { kind: 'no-headers' }
  | { kind: 'slow-drip'; byteIntervalMs: number }
  | { kind: 'truncated' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'redirect'; location: string }
  | { kind: 'reset' };

/** Knobs that hold until changed. */
export interface SimulatorKnobs {
  /** Added before every answer, ms. */
  latencyMs: number;
  /** Share of requests answered with a 5xx. */
  errorRate: number;
  /** Every `every`-th request starts a burst of `length` 429s with `Retry-After: retryAfterSeconds`. */
  rateLimitBurst: { every: number; length: number; retryAfterSeconds: number } | null;
  /** Events appended to the data set before answering each list request (new activity while a client pages). */
  appendPerRequest: number;
}

/** Counters a test reads to assert upstream traffic. */
export interface SimulatorStats {
  requests: number;
  byRoute: Map<string, number>;
  /** Most requests being answered at the same time: shows whether a client sends them concurrently. */
  maxInFlight: number;
}

/** Live control of a running simulator. */
export interface SimulatorControl {
  knobs: SimulatorKnobs;
  stats: SimulatorStats;
  /** Makes the next `times` requests (default 1) suffer `fault`, in order. */
  inject(fault: InjectedFault, times?: number): void;
  resetStats(): void;
  /**
   * Resolves once no request the server has started reading is being handled. A request its
   * client gave up on is still handled (and may take an injected fault): tests wait for this
   * before injecting the next fault. A request still unread in a socket is not seen, so a client
   * should not leave requests behind when its call returns.
   */
  idle(): Promise<void>;
}

/** A route: `pattern` like `/v1/audit_logs/:id`. */
export interface Route {
  method: string;
  pattern: string;
  /** Counted as a list request for `appendPerRequest`. */
  list?: boolean;
  handle(request: SimRequest, params: Record<string, string>): SimResponse | Promise<SimResponse>;
}

/** Options for {@link startSimulatorServer}. */
export interface SimulatorServerOptions {
  routes: readonly Route[];
  /** Checks credentials; returns a response to refuse the request, or null to let it through. */
  authorize?(request: SimRequest, route: Route): SimResponse | null;
  /** The vendor's error body for a status (5xx, 429, 404 …). */
  errorBody(status: number, message: string): unknown;
  /** Called for `appendPerRequest`. */
  append?(count: number): void;
  /** Adjusts every answer the server sends, its own 429s and 5xx included (e.g. rate-limit headers). */
  decorate?(response: SimResponse): SimResponse;
  /** Seed for the error-rate draws. */
  seed?: number;
  host?: string;
  port?: number;
  knobs?: Partial<SimulatorKnobs>;
}

export interface RunningSimulatorServer {
  baseUrl: string;
  control: SimulatorControl;
  stop(): Promise<void>;
}

/**
 * A small HTTP server for a vendor simulator: routing, JSON, an auth hook, and on demand the
 * upstream faults a trusted gateway must survive (error statuses, rate limits, malformed, slow,
 * truncated and oversized bodies, sockets that never answer). Everything vendor-specific comes in
 * through the options.
 */
/** The options every vendor simulator passes through to its server unchanged. */
export function commonServerOptions(options: {
  seed: number;
  host?: string | undefined;
  port?: number | undefined;
  knobs?: Partial<SimulatorKnobs> | undefined;
}): Pick<SimulatorServerOptions, 'seed' | 'host' | 'port' | 'knobs'> {
  return {
    seed: options.seed,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.knobs ? { knobs: options.knobs } : {}),
  };
}

export async function startSimulatorServer(options: SimulatorServerOptions): Promise<RunningSimulatorServer> {
  const knobs: SimulatorKnobs = { latencyMs: 0, errorRate: 0, rateLimitBurst: null, appendPerRequest: 0, ...options.knobs };
  const stats: SimulatorStats = { requests: 0, byRoute: new Map(), maxInFlight: 0 };
  let inFlight = 0;
  let onIdle: Array<() => void> = [];
  const injected: InjectedFault[] = [];
  let burstLeft = 0;
  const compiled = options.routes.map((route) => ({ route, match: compile(route.pattern) }));

  const server = http.createServer((req, res) => {
    inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    void handle(req, res)
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(options.errorBody(500, 'simulator error')));
      })
      .finally(() => {
        inFlight -= 1;
        if (inFlight === 0) {
          for (const resolve of onIdle) resolve();
          onIdle = [];
        }
      });
  });

  const reply = (res: http.ServerResponse, response: SimResponse) => send(res, options.decorate ? options.decorate(response) : response);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const body = await readBody(req);
    const request: SimRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
    const index = stats.requests++;

    let found: { route: Route; params: Record<string, string> } | null = null;
    for (const { route, match } of compiled) {
      const params = route.method === request.method ? match(request.path) : null;
      if (params) {
        found = { route, params };
        break;
      }
    }
    const routeName = found ? `${found.route.method} ${found.route.pattern}` : `${request.method} ${request.path}`;
    stats.byRoute.set(routeName, (stats.byRoute.get(routeName) ?? 0) + 1);

    if (knobs.latencyMs > 0) await sleep(knobs.latencyMs);
    const fault = injected.shift();
    if (fault) return applyFault(fault, res);

    if (knobs.rateLimitBurst && burstLeft === 0 && index > 0 && index % knobs.rateLimitBurst.every === 0) {
      burstLeft = knobs.rateLimitBurst.length;
    }
    if (burstLeft > 0 && knobs.rateLimitBurst) {
      burstLeft -= 1;
      return reply(res, { status: 429, headers: { 'retry-after': String(knobs.rateLimitBurst.retryAfterSeconds) }, json: options.errorBody(429, 'rate limited') });
    }
    if (knobs.errorRate > 0 && unit(options.seed ?? 7, index, 99) < knobs.errorRate) {
      return reply(res, { status: 503, json: options.errorBody(503, 'service unavailable') });
    }
    if (!found) return reply(res, { status: 404, json: options.errorBody(404, 'not found') });
    const refusal = options.authorize?.(request, found.route);
    if (refusal) return reply(res, refusal);
    if (found.route.list && knobs.appendPerRequest > 0) options.append?.(knobs.appendPerRequest);
    reply(res, await found.route.handle(request, found.params));
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    baseUrl: `http://${host}:${address.port}`,
    control: {
      knobs,
      stats,
      inject(fault, times = 1) {
        for (let i = 0; i < times; i++) injected.push(fault);
      },
      resetStats() {
        stats.requests = 0;
        stats.byRoute.clear();
        stats.maxInFlight = inFlight;
      },
      idle() {
        return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => onIdle.push(resolve));
      },
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: http.ServerResponse, response: SimResponse): void {
  const text = response.raw ?? (response.json === undefined ? '' : JSON.stringify(response.json));
  const headers: Record<string, string> = { ...response.headers };
  if (response.raw === undefined && response.json !== undefined) headers['content-type'] ??= 'application/json';
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(response.status, headers);
  res.end(text);
}

async function applyFault(fault: InjectedFault, res: http.ServerResponse): Promise<void> {
  switch (fault.kind) {
    case 'status':
      return send(res, { status: fault.status, headers: fault.headers ?? {}, json: fault.json ?? { message: 'injected fault' } });
    case 'invalid-json':
      return send(res, { status: 200, headers: { 'content-type': 'application/json' }, raw: '{"items": [ {"id": ' });
    case 'html':
      return send(res, { status: 200, headers: { 'content-type': 'text/html' }, raw: '<html><body>Sign in</body></html>' });
    case 'blackhole':
    case 'no-headers':
      // Hold the socket open and never answer; the client's timeouts must end it.
      return new Promise<void>((resolve) => res.on('close', () => resolve()));
    case 'slow-drip': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = JSON.stringify({ items: [], padding: 'x'.repeat(10_000) });
      for (const char of text) {
        if (res.destroyed) return;
        res.write(char);
        await sleep(fault.byteIntervalMs);
      }
      res.end();
      return;
    }
    case 'truncated':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"items": [');
      res.destroy();
      return;
    case 'huge': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent < fault.bytes && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
      return;
    }
    case 'redirect':
      return send(res, { status: 302, headers: { location: fault.location }, json: {} });
    case 'reset':
      res.socket?.destroy();
      return;
    default: {
      const unreachable: never = fault;
      return unreachable;
    }
  }
}

function compile(pattern: string): (path: string) => Record<string, string> | null {
  const names: string[] = [];
  const regex = new RegExp(
    `^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_whole, name: string) => {
      names.push(name);
      return '([^/]+)';
    })}$`,
  );
  return (path) => {
    const match = regex.exec(path);
    if (!match) return null;
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  };
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 2 * 1024 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
