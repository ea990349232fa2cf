import { ErrorCode, UpstreamError } from '../../errors';
import { createUpstreamClient, type UpstreamClient, type RequestCounter } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import type {
  AuditDataSource,
  EventRef,
  ListEventsRequest,
  ListEventsResult,
  SourceCapabilities,
  SourceQuery,
} from '../../sources/data-source';
import { normalizePage } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from './normalize';

/** Nirvana's config keys besides the common ones. */
export interface NirvanaCredentials extends Record<string, unknown> {
  apiKey: string;
}

/** The page-size bounds of `GET /v1/audit_logs` (docs: minimum 10, maximum 100). */
const MIN_LIMIT = 10;
const MAX_LIMIT = 100;

/**
 * Resume states, as JSON in gateway cursors:
 * - newest first: `{c}` = the upstream `next_cursor`;
 * - oldest first where the upstream honours `sort=created_at:asc` (the current API): `{a}` = the
 *   upstream `next_cursor` of that sort;
 * - oldest first on the seed-era API (no `sort`): `{w}` while walking to the oldest page through
 *   `next_cursor`, then `{p}` = the upstream `previous_cursor`, which walks back towards newer
 *   pages.
 */
type NirvanaResume = { c: string } | { a: string } | { w: string } | { p: string };

/** Whether the upstream honours `sort=created_at:asc`; learned from the first oldest-first page. */
type AscendingSort = 'unknown' | 'honoured' | 'ignored';

/**
 * Nirvana Labs audit logs (`GET /v1/audit_logs`, `GET /v1/audit_logs/{id}`), API key as Bearer.
 * Lists with `cursor` and `limit`, plus `sort=created_at:asc` for oldest first where the upstream
 * honours it (the current API; the seed-era one ignores or refuses it, and is walked instead).
 * Every filter is applied by the gateway.
 */
export class NirvanaDataSource implements AuditDataSource {
  readonly vendor = 'nirvana' as const;
  readonly sourceId: string;
  readonly displayName: string;
  private ascendingSort: AscendingSort = 'unknown';
  private readonly client: UpstreamClient;
  private readonly headers: Record<string, string>;

  constructor(config: BaseSourceConfig & NirvanaCredentials, deps: DataSourceDeps) {
    this.sourceId = config.id;
    this.displayName = config.name ?? `Nirvana Labs (${config.id})`;
    this.headers = { authorization: `Bearer ${config.apiKey}` };
    this.client = createUpstreamClient(config, deps, [config.apiKey]);
  }

  /** Read on every batch: replaced (not rebuilt on each read) once the upstream's sort support is known. */
  capabilities: SourceCapabilities = nirvanaCapabilities(false);

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const counter: RequestCounter = { requests: 0 };
    const resume = parseResume(request.resume, this.sourceId);
    const limit = clamp(request.limit);
    const result = (page: { events: AuditEventModel[] }, next: NirvanaResume | null): ListEventsResult => ({
      events: page.events,
      next: page.events.length > 0 ? next : null,
      upstreamRequests: counter.requests,
    });

    if (request.direction === 'DESC') {
      const page = await this.fetchPage(resume && 'c' in resume ? resume.c : null, limit, request.signal, counter);
      return result(page, page.next ? { c: page.next } : null);
    }
    if (resume && 'a' in resume) {
      const page = await this.fetchPage(resume.a, limit, request.signal, counter, 'created_at:asc');
      return result(page, page.next ? { a: page.next } : null);
    }
    if (resume && 'p' in resume) {
      const page = await this.fetchPage(resume.p, limit, request.signal, counter);
      return result(page, page.previous ? { p: page.previous } : null);
    }
    if (!resume && this.ascendingSort !== 'ignored') {
      const probed = await this.firstAscendingPage(limit, request.signal, counter);
      if (probed) return probed.sorted ? result(probed.page, probed.page.next ? { a: probed.page.next } : null) : this.walkStep(probed.page, counter);
    }
    // Oldest first without `sort`: walk to the oldest page in steps of the largest page, then
    // hand out that page and follow `previous_cursor` back up. One step per call keeps each
    // call one request, so the gateway's per-page request budget bounds the walk.
    const page = await this.fetchPage(resume && 'w' in resume ? resume.w : null, MAX_LIMIT, request.signal, counter);
    return this.walkStep(page, counter);
  }

  /**
   * The first oldest-first page, asked for with `sort=created_at:asc`; null when the answer does
   * not tell whether the upstream sorted (the caller walks instead). An upstream that refuses the
   * parameter (400, 422) or answers newest first ignores it: remembered, and never asked again.
   */
  private async firstAscendingPage(
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<{ page: NirvanaPage; sorted: boolean } | null> {
    let page: NirvanaPage;
    try {
      page = await this.fetchPage(null, limit, signal, counter, 'created_at:asc');
    } catch (error) {
      if (error instanceof UpstreamError && (error.httpStatus === 400 || error.httpStatus === 422)) {
        this.ascendingSort = 'ignored';
        return null;
      }
      throw error;
    }
    const order = timeOrder(page.events);
    if (order === 'ASC' || (order === 'EQUAL' && page.next === null)) {
      // A whole log in one page is listed in full whatever its order.
      if (order === 'ASC') {
        this.ascendingSort = 'honoured';
        this.capabilities = nirvanaCapabilities(true);
      }
      return { page, sorted: true };
    }
    if (order === 'DESC') {
      this.ascendingSort = 'ignored';
      // Newest first after all: the newest page of a seed-era listing, the walk's first step.
      return { page, sorted: false };
    }
    return null;
  }

  private walkStep(page: NirvanaPage, counter: RequestCounter): ListEventsResult {
    if (page.events.length > 0 && page.next) return { events: [], next: { w: page.next }, upstreamRequests: counter.requests };
    return { events: page.events, next: page.events.length > 0 && page.previous ? { p: page.previous } : null, upstreamRequests: counter.requests };
  }

  async getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    const response = await this.client.request({
      method: 'GET',
      path: `/v1/audit_logs/${encodeURIComponent(ref.sourceEventId)}`,
      headers: this.headers,
      signal,
      acceptStatuses: [404],
    });
    if (response.status === 404) return null;
    return normalizePage(this.sourceId, [response.body], parseNirvanaAuditLog, normalizeNirvanaAuditLog)[0] ?? null;
  }

  /** `pagination.total_count`, which counts the whole log: exact only for a query without filters. */
  async countEvents(query: SourceQuery, signal: AbortSignal): Promise<number | null> {
    const unfiltered = Object.values(query).every((value) => value === null);
    if (!unfiltered) return null;
    const response = await this.client.request({ method: 'GET', path: '/v1/audit_logs', query: { limit: MIN_LIMIT }, headers: this.headers, signal });
    const pagination = isJsonObject(response.body) ? response.body['pagination'] : undefined;
    const total = isJsonObject(pagination) ? pagination['total_count'] : undefined;
    return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async fetchPage(cursor: string | null, limit: number, signal: AbortSignal, counter: RequestCounter, sort: 'created_at:asc' | null = null): Promise<NirvanaPage> {
    const response = await this.client.request({
      method: 'GET',
      path: '/v1/audit_logs',
      query: { limit, cursor, sort },
      headers: this.headers,
      signal,
      counter,
    });
    const body = response.body;
    if (!isJsonObject(body)) {
      throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.sourceId, { logDetail: { reason: 'body is not an object' } });
    }
    const events = normalizePage(this.sourceId, body['items'], parseNirvanaAuditLog, normalizeNirvanaAuditLog);
    const pagination = isJsonObject(body['pagination']) ? body['pagination'] : {};
    return { events, next: cursorOrNull(pagination['next_cursor']), previous: cursorOrNull(pagination['previous_cursor']) };
  }
}

function nirvanaCapabilities(bothOrders: boolean): SourceCapabilities {
  return {
    nativeOrder: 'DESC',
    bothOrders,
    pagingKind: 'CURSOR',
    minPageSize: MIN_LIMIT,
    maxPageSize: MAX_LIMIT,
    nativeFilters: [],
    recordedFields: ['clientIp', 'userAgent', 'failed'],
    getById: true,
    countsTotal: true,
    retentionDays: null,
  };
}

/** One upstream page, normalised. */
interface NirvanaPage {
  events: AuditEventModel[];
  next: string | null;
  previous: string | null;
}

/** The time order of a page as received: EQUAL when it has fewer than two distinct times. */
function timeOrder(events: readonly AuditEventModel[]): 'ASC' | 'DESC' | 'EQUAL' | 'MIXED' {
  let up = false;
  let down = false;
  for (let i = 1; i < events.length; i += 1) {
    const step = events[i]!.occurredAtMs - events[i - 1]!.occurredAtMs;
    if (step > 0) up = true;
    else if (step < 0) down = true;
  }
  return up && down ? 'MIXED' : up ? 'ASC' : down ? 'DESC' : 'EQUAL';
}

function cursorOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function clamp(limit: number): number {
  return Math.max(MIN_LIMIT, Math.min(MAX_LIMIT, Math.floor(limit)));
}

function parseResume(value: unknown, sourceId: string): NirvanaResume | null {
  if (value === null) return null;
  if (isJsonObject(value)) {
    for (const key of ['c', 'a', 'w', 'p'] as const) {
      const cursor = value[key];
      if (typeof cursor === 'string' && Object.keys(value).length === 1) return { [key]: cursor } as NirvanaResume;
    }
  }
  throw new UpstreamError(ErrorCode.UpstreamCursorExpired, sourceId, { logDetail: { reason: 'unreadable resume state' } });
}
