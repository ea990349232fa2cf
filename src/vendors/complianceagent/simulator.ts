import { createHmac } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event';
import { SyntheticDataset } from '../../simulation/dataset';
import { commonServerOptions, startSimulatorServer, type Route, type SimRequest, type SimResponse } from '../../simulation/server';
import type { RunningSimulator, SimulatorStartOptions } from '../../simulation/vendor-simulator';
import {
  errorResponse,
  guarded,
  handleHistory,
  handleRetention,
  handleSearch,
  handleStatistics,
  handleVerify,
  InvalidParameter,
  ok,
  parseLimit,
  parseTime,
} from './simulator-compliance';
import { ExportJobs, handleSoc2 } from './simulator-evidence';
import { ComplianceAgentData, type Tampering } from './simulator-data';
import { expectedComplianceAgentEvents } from './simulator-expected';
import type { RawAuditLogEntry } from './wire-types';

/**
 * A stand-in for ComplianceAgent's Audit API as its documentation describes it (docs/vendors/complianceagent.md), every route under
 * `/api/v1/audit/...` of the returned `baseUrl` (a bare host, as the datasource expects).
 *
 * Choices the documentation leaves open, made once here:
 * - `/logs` is newest first (time desc, ties by chain position desc); `page` is 1-based;
 *   `limit` defaults to 20, 1 to 100, else 400; `from` is inclusive, `to` exclusive;
 * - `actor` matches `user` / `system` as the actor type, anything else as the actor's id or
 *   (case-insensitively) email; an unknown `event_type` matches nothing rather than erroring;
 *   `repository_id` and `event_type` compare exactly (case included);
 * - the list form is the whole entry: it carries `hash`, `previous_hash`, `actor.name`,
 *   `session_id` and `request_id`; the single-entry form nests the request metadata under
 *   `metadata` as the documentation shows. The hash covers the list form (see `hash-chain.ts`);
 * - scopes: `apiKey` has `read:audit` and `write:audit`, `readOnlyApiKey` only `read:audit`;
 *   starting an export needs `write:audit` (403 `INSUFFICIENT_SCOPE`), the rest `read:audit`;
 * - rate limit (when `rateLimit` is set): a fixed window per key; every answer carries
 *   `X-RateLimit-Limit/Remaining/Reset` (epoch seconds), a refusal is 429 `RATE_LIMITED` with
 *   `Retry-After`.
 */
export interface ComplianceAgentSimulatorOptions extends SimulatorStartOptions {
  /** The full-scope API key; default a random `ca_test_sk_…`. */
  apiKey?: string;
  /** Time of the newest event, ms. */
  endMs?: number;
  /** Mean gap between distinct timestamps, ms; default the data set's 1,500 (history tests want days). */
  meanGapMs?: number;
  /** How long an evidence export stays `processing`, ms; default 200. */
  exportDelayMs?: number;
  /** Requests allowed per key and window; default none (unlimited, like the Enterprise plan). */
  rateLimit?: { limit: number; windowMs: number } | null;
  /** Tamperings applied at start, by entry index (oldest = 0). */
  tamper?: readonly { index: number; kind: Tampering }[];
  knobs?: Parameters<typeof startSimulatorServer>[0]['knobs'];
}

/** The simulator's extras beyond {@link RunningSimulator}, for vendor tests. */
export interface RunningComplianceAgentSimulator extends RunningSimulator {
  /** A key with only `read:audit`. */
  readOnlyApiKey: string;
  /** The simulated log: entries, hashes, and `tamper(index, kind)` to break the chain. */
  data: ComplianceAgentData;
  /**
   * The requests that reached a route (past auth and injected faults) since the last call, oldest
   * first, at most the last {@link REQUEST_LOG_SIZE}; forgets them. Shows what a client sent.
   */
  takeRequests(): LoggedRequest[];
}

/** One request as the simulator received it. */
export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

/** Requests kept for {@link RunningComplianceAgentSimulator.takeRequests}; bounded, so a long demo run does not grow. */
export const REQUEST_LOG_SIZE = 1_000;

const PREFIX = '/api/v1/audit';
const FILTER_CACHE = 8;

const STATUS_CODES: Record<number, string> = {
  400: 'INVALID_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 422: 'VALIDATION_ERROR', 429: 'RATE_LIMITED', 500: 'INTERNAL_ERROR', 503: 'SERVICE_UNAVAILABLE',
};

/** Starts the simulator on loopback. */
export async function startComplianceAgentSimulator(options: ComplianceAgentSimulatorOptions): Promise<RunningComplianceAgentSimulator> {
  const dataset = new SyntheticDataset({
    size: options.size,
    seed: options.seed,
    ...(options.endMs !== undefined ? { endMs: options.endMs } : {}),
    ...(options.meanGapMs !== undefined ? { meanGapMs: options.meanGapMs } : {}),
  });
  const data = new ComplianceAgentData(dataset);
  for (const { index, kind } of options.tamper ?? []) data.tamper(index, kind);
  const random = () => createHmac('sha256', String(Math.random())).digest('hex').slice(0, 24);
  const apiKey = options.apiKey ?? `ca_test_sk_${random()}`;
  const readOnlyApiKey = `ca_test_sk_ro_${random()}`;
  const scopes = new Map<string, readonly string[]>([
    [apiKey, ['read:audit', 'write:audit']],
    [readOnlyApiKey, ['read:audit']],
  ]);
  const exports = new ExportJobs(data, options.exportDelayMs ?? 200);
  const windows = new Map<string, { startMs: number; used: number }>();
  const filterCache = new Map<string, Int32Array>();
  let requestLog: LoggedRequest[] = [];
  const logRequest = (request: SimRequest): void => {
    requestLog.push({ method: request.method, path: request.path, query: new URLSearchParams(request.query) });
    if (requestLog.length > REQUEST_LOG_SIZE) requestLog.shift();
  };

  /** Indexes (ascending) of the entries in `[lo, hi)` that match the filters; null = all of them. */
  const matching = (lo: number, hi: number, repositoryId: string | null, eventType: string | null, actor: string | null): Int32Array | null => {
    if (repositoryId === null && eventType === null && actor === null && !data.hasDeletions) return null;
    const key = `${lo}:${hi}:${repositoryId}:${eventType}:${actor}:${data.version}`;
    const cached = filterCache.get(key);
    if (cached) return cached;
    const wanted = actor?.toLowerCase() ?? null;
    const out: number[] = [];
    for (let i = lo; i < hi; i++) {
      if (data.isDeleted(i)) continue;
      const a = data.attributes(i);
      if (repositoryId !== null && a.repository.id !== repositoryId) continue;
      if (eventType !== null && a.eventType !== eventType) continue;
      if (wanted !== null && wanted !== a.actorType && actor !== a.actorId && wanted !== a.actorEmail) continue;
      out.push(i);
    }
    const result = Int32Array.from(out);
    filterCache.set(key, result);
    if (filterCache.size > FILTER_CACHE) filterCache.delete(filterCache.keys().next().value!);
    return result;
  };

  const listLogs = (request: SimRequest): SimResponse =>
    guarded(() => {
      const q = request.query;
      const limit = parseLimit(q.get('limit'));
      const pageText = q.get('page');
      const page = pageText === null ? 1 : Number(pageText);
      if (!Number.isInteger(page) || page < 1) throw new InvalidParameter(400, 'page', 'page must be an integer >= 1');
      const [lo, hi] = data.window(parseTime(q.get('from'), 'from'), parseTime(q.get('to'), 'to'));
      const indexes = matching(lo, hi, q.get('repository_id') || null, q.get('event_type') || null, q.get('actor') || null);
      const total = indexes ? indexes.length : hi - lo;
      const items: RawAuditLogEntry[] = [];
      // Newest first: position p (0 = newest) is the (total-1-p)-th match in ascending order.
      for (let p = (page - 1) * limit; p < Math.min(total, page * limit); p++) {
        const index = indexes ? indexes[total - 1 - p]! : hi - 1 - p;
        const entry = data.entry(index);
        if (entry) items.push(entry);
      }
      return ok(items, { pagination: { page, limit, total } });
    });

  const getLog = (id: string): SimResponse => {
    const index = data.indexOfId(id);
    const entry = index === null ? null : data.singleEntry(index);
    return entry ? ok(entry) : errorResponse(404, 'NOT_FOUND', 'Audit log entry not found', { log_id: id.slice(0, 64) });
  };

  const rateLimit = options.rateLimit ?? null;
  /** Counts a request against the key's window; the headers to send, and whether it is refused. */
  const meter = (key: string): { headers: Record<string, string>; refused: boolean } => {
    if (!rateLimit) return { headers: {}, refused: false };
    const now = Date.now();
    let window = windows.get(key);
    if (!window || now >= window.startMs + rateLimit.windowMs) {
      window = { startMs: now, used: 0 };
      windows.set(key, window);
    }
    const refused = window.used >= rateLimit.limit;
    if (!refused) window.used += 1;
    const resetMs = window.startMs + rateLimit.windowMs;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(rateLimit.limit),
      'x-ratelimit-remaining': String(rateLimit.limit - window.used),
      'x-ratelimit-reset': String(Math.ceil(resetMs / 1000)),
    };
    if (refused) headers['retry-after'] = String(Math.max(1, Math.ceil((resetMs - now) / 1000)));
    return { headers, refused };
  };

  const keyOf = (request: SimRequest): string | null => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    return match && scopes.has(match[1]!) ? match[1]! : null;
  };

  /** Wraps a handler with the rate-limit headers of the caller's key. */
  const metered = (route: Omit<Route, 'handle'> & { handle: (request: SimRequest, params: Record<string, string>) => SimResponse }): Route => ({
    ...route,
    handle: (request, params) => {
      const { headers, refused } = meter(keyOf(request) ?? '');
      if (refused) return errorResponse(429, 'RATE_LIMITED', 'Rate limit exceeded', { limit: rateLimit?.limit ?? null }, headers);
      logRequest(request);
      const response = route.handle(request, params);
      return { ...response, headers: { ...response.headers, ...headers } };
    },
  });

  const routes: Route[] = [
    metered({ method: 'GET', pattern: `${PREFIX}/logs`, list: true, handle: listLogs }),
    metered({ method: 'GET', pattern: `${PREFIX}/logs/:id`, handle: (_request, params) => getLog(params['id'] ?? '') }),
    metered({ method: 'POST', pattern: `${PREFIX}/evidence/export`, handle: (request) => exports.start(request) }),
    metered({ method: 'GET', pattern: `${PREFIX}/evidence/export/:jobId`, handle: (_request, params) => exports.status(params['jobId'] ?? '') }),
    metered({ method: 'GET', pattern: `${PREFIX}/evidence/soc2`, handle: (request) => handleSoc2(data, request) }),
    metered({ method: 'GET', pattern: `${PREFIX}/history`, handle: (request) => handleHistory(data, request) }),
    metered({ method: 'POST', pattern: `${PREFIX}/verify`, handle: (request) => handleVerify(data, request) }),
    metered({ method: 'GET', pattern: `${PREFIX}/statistics`, handle: (request) => handleStatistics(data, request) }),
    metered({ method: 'GET', pattern: `${PREFIX}/search`, handle: (request) => handleSearch(data, request) }),
    metered({ method: 'GET', pattern: `${PREFIX}/retention`, handle: () => handleRetention(data) }),
  ];

  const server = await startSimulatorServer({
    ...commonServerOptions(options),
    errorBody: (status, message) => (errorResponse(status, STATUS_CODES[status] ?? 'ERROR', message).json),
    authorize: (request, route) => {
      const key = keyOf(request);
      if (key === null) return errorResponse(401, 'UNAUTHORIZED', 'Invalid or missing API key', null);
      const needed = route.method === 'POST' && route.pattern.endsWith('/evidence/export') ? 'write:audit' : 'read:audit';
      if (!(scopes.get(key) ?? []).includes(needed)) return errorResponse(403, 'INSUFFICIENT_SCOPE', `This API key lacks the ${needed} scope`, { required_scope: needed });
      return null;
    },
    append: (count) => dataset.append(count),
    routes,
  });

  return {
    baseUrl: server.baseUrl,
    credentials: { apiKey },
    readOnlyApiKey,
    control: server.control,
    dataset,
    data,
    stop: server.stop,
    takeRequests() {
      const taken = requestLog;
      requestLog = [];
      return taken;
    },
    expectedEvents(sourceId: string): AuditEventModel[] {
      return expectedComplianceAgentEvents(data, sourceId);
    },
  };
}
