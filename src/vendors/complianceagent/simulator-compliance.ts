import type { SimRequest, SimResponse } from '../../simulation/server';
import { entryHash, VerificationDigest } from './hash-chain';
import type { ComplianceAgentData, EntryAttributes } from './simulator-data';
import type { RawHistory, RawRetention, RawSearchResult, RawStatistics, RawVerifyResult } from './wire-types';

/**
 * The ComplianceAgent simulator's endpoints besides `/logs` and the evidence ones
 * (`simulator-evidence.ts`): verify, statistics, search, history and retention, all computed
 * from the simulated entries, plus the error envelope and parameter parsing they share. What the
 * documentation leaves open is decided here and listed on each handler.
 */

/** One UTC day, ms. */
export const DAY_MS = 86_400_000;
let requestCounter = 0;

/** The documented error envelope. */
export function errorResponse(status: number, code: string, message: string, details: Record<string, unknown> | null = null, headers?: Record<string, string>): SimResponse {
  return {
    status,
    ...(headers ? { headers } : {}),
    json: {
      success: false,
      error: { code, message, details },
      meta: { request_id: `req_${(++requestCounter).toString(16).padStart(10, '0')}`, timestamp: new Date().toISOString() },
    },
  };
}

/** `{success: true, data}`. */
export function ok(data: unknown, extra: Record<string, unknown> = {}): SimResponse {
  return { status: 200, json: { success: true, data, ...extra } };
}

/** A refusal of a bad parameter, thrown by the parsers and turned into a response by {@link guarded}. */
export class InvalidParameter extends Error {
  constructor(
    readonly status: 400 | 422,
    readonly field: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Runs a handler, answering its {@link InvalidParameter} with the error envelope. */
export function guarded(handler: () => SimResponse): SimResponse {
  try {
    return handler();
  } catch (error) {
    if (!(error instanceof InvalidParameter)) throw error;
    return errorResponse(error.status, error.status === 400 ? 'INVALID_REQUEST' : 'VALIDATION_ERROR', error.message, { field: error.field, ...error.extra });
  }
}

/** An ISO 8601 date or date-time; a date alone is midnight UTC. Null when absent. */
export function parseTime(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidParameter(400, field, `${field} must be an ISO 8601 date or date-time, e.g. 2024-01-15T10:30:00Z`);
  }
  return Date.parse(value);
}

/** A `YYYY-MM-DD` date as midnight UTC; null when absent. */
export function parseDate(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidParameter(422, field, `${field} must be a date, YYYY-MM-DD`);
  }
  return Date.parse(value);
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[], field: string, fallback: T): T {
  if (value === null || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new InvalidParameter(422, field, `${field} must be one of ${allowed.join(', ')}`, { allowed });
  return value as T;
}

/** `YYYY-MM-DD` of `ms`, UTC. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Calls `visit` for every entry (not deleted) with `fromMs <= time < toMs`, oldest first. */
export function scan(data: ComplianceAgentData, fromMs: number | null, toMs: number | null, visit: (index: number, attributes: EntryAttributes) => void): void {
  const [lo, hi] = data.window(fromMs, toMs);
  for (let i = lo; i < hi; i++) if (!data.isDeleted(i)) visit(i, data.attributes(i));
}

/**
 * `POST /verify`: recomputes every hash in `[from, to)` from the served content and checks each
 * `previous_hash` against the served entry before it (the chain is organisation-wide, so with
 * `repository_id` the links of that repository's entries are still checked against whatever
 * entry precedes them). `hash_mismatches` counts changed entries, `gaps_detected` broken links;
 * `chain_valid` = no broken link, `verified` = chain valid and no mismatch. `verification_hash`
 * follows {@link VerificationDigest} over the checked entries' stored hashes.
 */
export function handleVerify(data: ComplianceAgentData, request: SimRequest): SimResponse {
  return guarded(() => {
    const body = request.body === undefined ? {} : request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidParameter(400, 'body', 'body must be a JSON object');
    const fields = body as Record<string, unknown>;
    const fromMs = parseTime(fields['from'], 'from');
    const toMs = parseTime(fields['to'], 'to');
    const repositoryId = typeof fields['repository_id'] === 'string' ? fields['repository_id'] : null;
    const [lo, hi] = data.window(fromMs, toMs);
    let previous: string | null = null;
    for (let i = lo - 1; i >= 0; i--) {
      if (!data.isDeleted(i)) {
        previous = data.hashOf(i);
        break;
      }
    }
    const digest = new VerificationDigest();
    let checked = 0;
    let mismatches = 0;
    let gaps = 0;
    for (let i = lo; i < hi; i++) {
      const entry = data.entry(i);
      if (!entry) continue;
      const linkOk = (entry.previous_hash ?? null) === previous;
      previous = entry.hash ?? null;
      if (repositoryId !== null && entry.repository?.id !== repositoryId) continue;
      checked += 1;
      digest.add(entry.hash ?? '');
      if (!linkOk) gaps += 1;
      if (entryHash(entry as unknown as Record<string, unknown>) !== entry.hash) mismatches += 1;
    }
    const result: RawVerifyResult = {
      verified: gaps === 0 && mismatches === 0,
      logs_checked: checked,
      chain_valid: gaps === 0,
      hash_mismatches: mismatches,
      gaps_detected: gaps,
      verification_hash: digest.finish(),
      verified_at: new Date().toISOString(),
    };
    return ok(result);
  });
}

/** `GET /statistics`: counts over `[from, to)`; repositories by name, top 10 actors by email (system actors by id). */
export function handleStatistics(data: ComplianceAgentData, request: SimRequest): SimResponse {
  return guarded(() => {
    const fromMs = parseTime(request.query.get('from'), 'from');
    const toMs = parseTime(request.query.get('to'), 'to');
    const byType: Record<string, number> = {};
    const byRepository: Record<string, number> = {};
    const byActorType: Record<string, number> = {};
    const byActor = new Map<string, number>();
    let total = 0;
    scan(data, fromMs, toMs, (_index, a) => {
      total += 1;
      byType[a.eventType] = (byType[a.eventType] ?? 0) + 1;
      byRepository[a.repository.name] = (byRepository[a.repository.name] ?? 0) + 1;
      byActorType[a.actorType] = (byActorType[a.actorType] ?? 0) + 1;
      const actor = a.actorEmail ?? a.actorId;
      byActor.set(actor, (byActor.get(actor) ?? 0) + 1);
    });
    const topActors = [...byActor.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, 10)
      .map(([actor, count]) => ({ actor, event_count: count }));
    const result: RawStatistics = {
      period: { from: fromMs === null ? null : new Date(fromMs).toISOString(), to: toMs === null ? null : new Date(toMs).toISOString() },
      total_events: total,
      events_by_type: byType,
      events_by_repository: byRepository,
      events_by_actor_type: byActorType,
      top_actors: topActors,
    };
    return ok(result);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function flattenText(value: unknown, out: string[]): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
  else if (Array.isArray(value)) for (const item of value) flattenText(item, out);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) flattenText(item, out);
}

/**
 * `GET /search`: case-insensitive substring search for `q` over `details` values, the actor
 * (name, email, id) or `all` of those plus event type, resource and repository names. Score in
 * (0.5, 1]: more and longer matches in shorter text score higher. Ordered by score, then newest
 * first. Extensions: `limit` (default 20, max 100) and `from`/`to`, as on `/logs`.
 */
export function handleSearch(data: ComplianceAgentData, request: SimRequest): SimResponse {
  return guarded(() => {
    const q = (request.query.get('q') ?? '').trim();
    if (q === '') throw new InvalidParameter(400, 'q', 'q is required');
    if (q.length > 256) throw new InvalidParameter(400, 'q', 'q must be at most 256 characters');
    const fields = oneOf(request.query.get('fields'), ['all', 'details', 'actor'] as const, 'fields', 'all');
    const limit = parseLimit(request.query.get('limit'));
    const fromMs = parseTime(request.query.get('from'), 'from');
    const toMs = parseTime(request.query.get('to'), 'to');
    const needle = q.toLowerCase();
    const hits: { index: number; score: number; highlight: string }[] = [];
    scan(data, fromMs, toMs, (index) => {
      const entry = data.entry(index)!;
      const parts: string[] = [];
      if (fields === 'details' || fields === 'all') flattenText(entry.details, parts);
      if (fields === 'actor' || fields === 'all') parts.push(entry.actor.name ?? '', entry.actor.email ?? '', entry.actor.id);
      if (fields === 'all') parts.push(entry.event_type, entry.resource?.name ?? '', entry.repository?.name ?? '');
      const text = parts.filter((part) => part !== '').join(' ');
      const lower = text.toLowerCase();
      const at = lower.indexOf(needle);
      if (at < 0) return;
      let occurrences = 0;
      for (let from = at; from >= 0; from = lower.indexOf(needle, from + needle.length)) occurrences += 1;
      const score = Math.round(100 * (0.5 + 0.5 * Math.min(1, (needle.length * occurrences) / Math.max(needle.length, Math.min(text.length, 60))))) / 100;
      const start = Math.max(0, at - 30);
      const end = Math.min(text.length, at + needle.length + 30);
      const highlight = `${start > 0 ? '...' : ''}${escapeHtml(text.slice(start, at))}<em>${escapeHtml(text.slice(at, at + needle.length))}</em>${escapeHtml(text.slice(at + needle.length, end))}${end < text.length ? '...' : ''}`;
      hits.push({ index, score, highlight });
    });
    hits.sort((a, b) => b.score - a.score || b.index - a.index);
    const result: RawSearchResult = {
      results: hits.slice(0, limit).map((hit) => {
        const a = data.attributes(hit.index);
        return { id: data.entry(hit.index)!.id, event_type: a.eventType, highlight: hit.highlight, score: hit.score, timestamp: new Date(data.dataset.timeOf(hit.index)).toISOString() };
      }),
      total: hits.length,
    };
    return ok(result);
  });
}

/** `limit`: default 20, 1 to 100, else 400. */
export function parseLimit(text: string | null): number {
  if (text === null) return 20;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameter(400, 'limit', 'limit must be an integer between 1 and 100');
  return limit;
}

/** `GET /retention`: the documented policy; storage at 4 KB an entry; the oldest entry still stored. */
export function handleRetention(data: ComplianceAgentData): SimResponse {
  let oldest: string | null = null;
  for (let i = 0; i < data.size; i++) {
    if (!data.isDeleted(i)) {
      oldest = new Date(data.dataset.timeOf(i)).toISOString();
      break;
    }
  }
  const result: RawRetention = {
    policy: {
      audit_logs: { retention_days: 2555, archive_after_days: 365 },
      scan_results: { retention_days: 730, archive_after_days: 180 },
      evidence_exports: { retention_days: 30 },
    },
    storage_used_gb: Math.round((data.size * 4096) / 1e7) / 100,
    oldest_log: oldest,
  };
  return ok(result);
}

/** Start of the period (day, ISO week from Monday, calendar month) containing `ms`, UTC. */
export function periodStart(ms: number, interval: 'day' | 'week' | 'month'): number {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  if (interval === 'day') return day;
  if (interval === 'week') return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
  const date = new Date(day);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** Start of the period after the one starting at `start`. */
export function nextPeriod(start: number, interval: 'day' | 'week' | 'month'): number {
  if (interval === 'day') return start + DAY_MS;
  if (interval === 'week') return start + 7 * DAY_MS;
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * `GET /history`: one point per period from the period containing `from` (default: 12 weeks before
 * `to`) to `to` (default: the day after the newest entry). `issues` = `issue.created`, `fixes` =
 * `fix.applied`, `score` = round(100 * (resolved + applied + 1) / (created + resolved + applied + 2)).
 * Trend: improving when the metric moved the good way (fewer issues, more fixes, higher score).
 */
export function handleHistory(data: ComplianceAgentData, request: SimRequest): SimResponse {
  return guarded(() => {
    const metric = oneOf(request.query.get('metric'), ['score', 'issues', 'fixes'] as const, 'metric', 'score');
    const interval = oneOf(request.query.get('interval'), ['day', 'week', 'month'] as const, 'interval', 'week');
    const repositoryId = request.query.get('repository_id');
    const framework = request.query.get('framework');
    const newest = data.size > 0 ? data.dataset.timeOf(data.size - 1) : Date.now();
    const toMs = parseTime(request.query.get('to'), 'to') ?? periodStart(newest, 'day') + DAY_MS;
    const fromMs = parseTime(request.query.get('from'), 'from') ?? toMs - 84 * DAY_MS;
    if (fromMs >= toMs) throw new InvalidParameter(422, 'from', 'from must be before to');
    const points: RawHistory['data_points'] = [];
    let previous: number | null = null;
    for (let start = periodStart(fromMs, interval); start < toMs; start = nextPeriod(start, interval)) {
      if (points.length >= 1000) throw new InvalidParameter(422, 'interval', 'at most 1000 data points; use a longer interval or a shorter window');
      const end = nextPeriod(start, interval);
      let created = 0;
      let resolved = 0;
      let applied = 0;
      scan(data, Math.max(start, fromMs), Math.min(end, toMs), (_index, a) => {
        if (repositoryId && a.repository.id !== repositoryId) return;
        if (framework && a.framework !== framework) return;
        if (a.eventType === 'issue.created') created += 1;
        else if (a.eventType === 'issue.resolved') resolved += 1;
        else if (a.eventType === 'fix.applied') applied += 1;
      });
      const value = metric === 'issues' ? created : metric === 'fixes' ? applied : Math.round((100 * (resolved + applied + 1)) / (created + resolved + applied + 2));
      points.push({ period_start: isoDate(start), period_end: isoDate(end - DAY_MS), value, change: previous === null ? null : value - previous });
      previous = value;
    }
    const first = points[0]?.value ?? null;
    const last = points[points.length - 1]?.value ?? null;
    const change = first === null || last === null ? null : last - first;
    const good = change === null || change === 0 ? 0 : (metric === 'issues' ? -change : change);
    const result: RawHistory = {
      metric,
      interval,
      data_points: points,
      summary: { start_value: first, end_value: last, total_change: change, trend: good > 0 ? 'improving' : good < 0 ? 'declining' : 'stable' },
    };
    return ok(result);
  });
}
