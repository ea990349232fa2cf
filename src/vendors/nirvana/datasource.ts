import { ErrorCode, UpstreamError } from '../../errors';
import { queryMatcher } from '../../federation/filter';
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
import type { Logger } from '../../logger';
import { normalizePage, normalizeRecord, unusableOf } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from './normalize';
import { NIRVANA_NATIVE_FILTERS, nirvanaPushDown, UNMATCHABLE_VALUES, type NirvanaFilterParams, type NirvanaPushDown } from './push-down';

/** Nirvana's config keys besides the common ones. */
export interface NirvanaCredentials extends Record<string, unknown> {
  apiKey: string;
}

/** The page-size bounds of `GET /v1/audit_logs` (docs: minimum 10, maximum 100). */
const MIN_LIMIT = 10;
const MAX_LIMIT = 100;
const ASCENDING = 'created_at:asc';

/** Where a resume state stands in the upstream's listing; see {@link NirvanaResume}. */
type ResumePosition = { c: string } | { a: string } | { w: string } | { p: string };

/**
 * Resume states, as JSON in gateway cursors:
 * - newest first: `{c}` = the upstream `next_cursor`;
 * - oldest first where the upstream honours `sort=created_at:asc` (the current API): `{a}` = the
 *   upstream `next_cursor` of that sort;
 * - oldest first on the seed-era API (no `sort`): `{w}` while walking to the oldest page through
 *   `next_cursor`, then `{p}` = the upstream `previous_cursor`, which walks back towards newer
 *   pages;
 * - `f: 1` when the request that issued the cursor carried filter parameters. The upstream takes
 *   a cursor only with the filters it was issued for, so a state is always continued with the
 *   parameters it was issued with, whatever has been learned since (the gateway continues a
 *   traversal with the same query, so the same query gives the same parameters). States without
 *   `f` (all of them before filters were pushed down) continue without filters.
 */
type NirvanaResume = ResumePosition & { f?: 1 };

/** Whether the upstream honours `sort=created_at:asc`; learned from the first oldest-first page. */
type AscendingSort = 'unknown' | 'honoured' | 'ignored';

/**
 * What the upstream does with the list filters. `refused`: it answered them with a 400 or 422
 * (and the same request without them was answered); `ignored`: it listed an entry they exclude.
 * Either way, no new listing sends them again.
 */
type FilterSupport = 'unknown' | 'accepted' | 'refused' | 'ignored';

/**
 * Nirvana Labs audit logs (`GET /v1/audit_logs`, `GET /v1/audit_logs/{id}`), API key as Bearer.
 * Lists with `cursor` and `limit`, plus `sort=created_at:asc` for oldest first where the upstream
 * honours it (the current API; the seed-era one ignores or refuses it, and is walked instead),
 * and the filters of `push-down.ts` where the upstream takes them (the seed-era API ignores or
 * refuses them; then the gateway's own filtering does all the work).
 */
export class NirvanaDataSource implements AuditDataSource {
  readonly vendor = 'nirvana' as const;
  readonly sourceId: string;
  readonly displayName: string;
  private ascendingSort: AscendingSort = 'unknown';
  private filterSupport: FilterSupport = 'unknown';
  /** Filter parameters proven applied (or not) upstream, for exact counts. */
  private readonly appliedParams = new Map<string, boolean>();
  private readonly client: UpstreamClient;
  private readonly logger: Logger;
  private readonly headers: Record<string, string>;

  constructor(config: BaseSourceConfig & NirvanaCredentials, deps: DataSourceDeps) {
    this.sourceId = config.id;
    this.displayName = config.name ?? `Nirvana Labs (${config.id})`;
    this.headers = { authorization: `Bearer ${config.apiKey}` };
    this.client = createUpstreamClient(config, deps, [config.apiKey]);
    this.logger = deps.logger;
  }

  /** Read on every batch: replaced (not rebuilt on each read) once the upstream's sort or filter support is known. */
  capabilities: SourceCapabilities = nirvanaCapabilities(false, true);

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const counter: RequestCounter = { requests: 0 };
    const resume = parseResume(request.resume, request.direction, this.sourceId);
    const limit = clamp(request.limit);
    const pushDown = nirvanaPushDown(request.query);
    if (resume) return this.continueListing(resume, pushDown, limit, request.signal, counter);
    if (request.direction === 'DESC') {
      const { page, filtered } = await this.firstPage(limit, request.signal, counter, null, pushDown);
      return batch(page, 'c', page.next, filtered, counter);
    }
    if (this.ascendingSort !== 'ignored') {
      const probed = await this.firstAscendingPage(limit, request.signal, counter, pushDown);
      if (probed) return probed.sorted ? batch(probed.page, 'a', probed.page.next, probed.filtered, counter) : walkStep(probed.page, probed.filtered, counter);
    }
    // Oldest first without `sort`: walk to the oldest page in steps of the largest page, then
    // hand out that page and follow `previous_cursor` back up. One step per call keeps each
    // call one request, so the gateway's per-page request budget bounds the walk.
    const { page, filtered } = await this.firstPage(MAX_LIMIT, request.signal, counter, null, pushDown);
    return walkStep(page, filtered, counter);
  }

  private async continueListing(
    resume: NirvanaResume,
    pushDown: NirvanaPushDown,
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<ListEventsResult> {
    const filtered = resume.f === 1;
    const filters = filtered ? pushDown : null;
    if ('c' in resume) {
      const page = await this.fetchPage({ cursor: resume.c, limit, sort: null, filters }, signal, counter);
      return batch(page, 'c', page.next, filtered, counter);
    }
    if ('a' in resume) {
      const page = await this.fetchPage({ cursor: resume.a, limit, sort: ASCENDING, filters }, signal, counter);
      return batch(page, 'a', page.next, filtered, counter);
    }
    if ('p' in resume) {
      const page = await this.fetchPage({ cursor: resume.p, limit, sort: null, filters }, signal, counter);
      return batch(page, 'p', page.previous, filtered, counter);
    }
    const page = await this.fetchPage({ cursor: resume.w, limit: MAX_LIMIT, sort: null, filters }, signal, counter);
    return walkStep(page, filtered, counter);
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
    pushDown: NirvanaPushDown,
  ): Promise<{ page: NirvanaPage; filtered: boolean; sorted: boolean } | null> {
    let first: { page: NirvanaPage; filtered: boolean };
    try {
      first = await this.firstPage(limit, signal, counter, ASCENDING, pushDown);
    } catch (error) {
      if (isRefusal(error)) {
        this.ascendingSort = 'ignored';
        return null;
      }
      throw error;
    }
    const { page } = first;
    const order = timeOrder(page.events);
    if (order === 'ASC' || (order === 'EQUAL' && page.next === null)) {
      // A whole log in one page is listed in full whatever its order.
      if (order === 'ASC') {
        this.ascendingSort = 'honoured';
        this.updateCapabilities();
      }
      return { ...first, sorted: true };
    }
    if (order === 'DESC') {
      this.ascendingSort = 'ignored';
      // Newest first after all: the newest page of a seed-era listing, the walk's first step.
      return { ...first, sorted: false };
    }
    return null;
  }

  /**
   * A first page (no cursor), with the filters unless the upstream is known not to take them. An
   * upstream that refuses them (400, 422) is asked the same without them; when that is answered,
   * the filters were at fault: remembered, and never sent again. When it is refused too, the fault
   * lies elsewhere (the sort, say), and the caller gets that refusal.
   */
  private async firstPage(
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
    sort: typeof ASCENDING | null,
    pushDown: NirvanaPushDown,
  ): Promise<{ page: NirvanaPage; filtered: boolean }> {
    const unfiltered = { cursor: null, limit, sort, filters: null };
    if (!this.sendsFilters() || Object.keys(pushDown.params).length === 0) {
      return { page: await this.fetchPage(unfiltered, signal, counter), filtered: false };
    }
    try {
      return { page: await this.fetchPage({ ...unfiltered, filters: pushDown }, signal, counter), filtered: true };
    } catch (error) {
      if (!isRefusal(error)) throw error;
    }
    const page = await this.fetchPage(unfiltered, signal, counter);
    this.learnFilterSupport('refused');
    return { page, filtered: false };
  }

  private sendsFilters(): boolean {
    return this.filterSupport === 'unknown' || this.filterSupport === 'accepted';
  }

  private learnFilterSupport(support: FilterSupport): void {
    if (this.filterSupport === support || this.filterSupport === 'refused' || this.filterSupport === 'ignored') return;
    this.filterSupport = support;
    this.updateCapabilities();
  }

  private updateCapabilities(): void {
    this.capabilities = nirvanaCapabilities(this.ascendingSort === 'honoured', this.sendsFilters());
  }

  async getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    return this.findEvent(ref.sourceEventId, signal);
  }

  /** `GET /v1/audit_logs/{id}`: Nirvana looks an entry up by its id alone. */
  async findEvent(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null> {
    const response = await this.client.request({
      method: 'GET',
      path: `/v1/audit_logs/${encodeURIComponent(sourceEventId)}`,
      headers: this.headers,
      signal,
      acceptStatuses: [404],
    });
    if (response.status === 404) return null;
    return normalizeRecord(this.sourceId, response.body, parseNirvanaAuditLog, normalizeNirvanaAuditLog);
  }

  /**
   * Exact or null. A listing that fits in one page is counted here, whatever the upstream did
   * with the filters (it listed a superset of the query's events, all of them). Beyond one page,
   * `pagination.total_count` is the query's count only when every field of the query was sent
   * and each parameter sent is proven applied upstream (see {@link appliesParam}), less the
   * entries stamped exactly `toMs`, which the inclusive `created_at_max` lets through.
   */
  async countEvents(query: SourceQuery, signal: AbortSignal): Promise<number | null> {
    const counter: RequestCounter = { requests: 0 };
    const pushDown = nirvanaPushDown(query);
    const { page, filtered } = await this.firstPage(MAX_LIMIT, signal, counter, null, pushDown);
    if (page.next === null) return page.events.filter(queryMatcher(query)).length;
    const params = Object.keys(pushDown.params);
    // Filters refused, or shown ignored by this very page: its total counts more than the query.
    if (page.total === null || !pushDown.complete || (params.length > 0 && (!filtered || !this.sendsFilters()))) return null;
    for (const param of params) if (!(await this.appliesParam(param, signal, counter))) return null;
    const atWindowEnd = query.toMs === null ? 0 : await this.countAtWindowEnd(pushDown, signal, counter);
    return atWindowEnd === null ? null : page.total - atWindowEnd;
  }

  /** The entries the filters admit at exactly `created_at_max`, where both bounds are inclusive. */
  private async countAtWindowEnd(pushDown: NirvanaPushDown, signal: AbortSignal, counter: RequestCounter): Promise<number | null> {
    const end = pushDown.params['created_at_max']!;
    const edge = { ...pushDown.params, created_at_min: end };
    const page = await this.fetchPage({ cursor: null, limit: MIN_LIMIT, sort: null, filters: null, otherParams: edge }, signal, counter);
    return page.total;
  }

  /**
   * Whether the upstream applies filter `param`, asked once with a value no entry can have: it
   * applies it when it answers with no entries and a total of 0. Asked only once the log is known
   * to hold entries (an empty log answers nothing to anything).
   */
  private async appliesParam(param: string, signal: AbortSignal, counter: RequestCounter): Promise<boolean> {
    const known = this.appliedParams.get(param);
    if (known !== undefined) return known;
    const unmatchable = UNMATCHABLE_VALUES[param];
    let applied = false;
    if (unmatchable !== undefined) {
      try {
        const page = await this.fetchPage({ cursor: null, limit: MIN_LIMIT, sort: null, filters: null, otherParams: { [param]: unmatchable } }, signal, counter);
        applied = page.events.length === 0 && page.total === 0;
      } catch (error) {
        if (!isRefusal(error)) throw error;
      }
    }
    this.appliedParams.set(param, applied);
    return applied;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async fetchPage(ask: PageRequest, signal: AbortSignal, counter: RequestCounter): Promise<NirvanaPage> {
    const filterParams: NirvanaFilterParams = ask.otherParams ?? ask.filters?.params ?? {};
    const response = await this.client.request({
      method: 'GET',
      path: '/v1/audit_logs',
      query: { ...filterParams, limit: ask.limit, cursor: ask.cursor, sort: ask.sort },
      headers: this.headers,
      signal,
      counter,
    });
    const body = response.body;
    if (!isJsonObject(body)) {
      throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, this.sourceId, { logDetail: { reason: 'body is not an object' } });
    }
    const { events } = normalizePage(this.sourceId, body['items'], parseNirvanaAuditLog, normalizeNirvanaAuditLog, { logger: this.logger, counter });
    if (ask.filters && Object.keys(ask.filters.params).length > 0) {
      // An entry the filters exclude shows an upstream that does not apply them.
      this.learnFilterSupport(events.every(ask.filters.admits) ? 'accepted' : 'ignored');
    }
    const pagination = isJsonObject(body['pagination']) ? body['pagination'] : {};
    const total = pagination['total_count'];
    return {
      events,
      next: cursorOrNull(pagination['next_cursor']),
      previous: cursorOrNull(pagination['previous_cursor']),
      total: typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : null,
    };
  }
}

function nirvanaCapabilities(bothOrders: boolean, filters: boolean): SourceCapabilities {
  return {
    nativeOrder: 'DESC',
    bothOrders,
    pagingKind: 'CURSOR',
    minPageSize: MIN_LIMIT,
    maxPageSize: MAX_LIMIT,
    nativeFilters: filters ? NIRVANA_NATIVE_FILTERS : [],
    recordedFields: ['clientIp', 'userAgent', 'failed'],
    getById: true,
    countsTotal: true,
    retentionDays: null,
  };
}

/** One `GET /v1/audit_logs`. */
interface PageRequest {
  cursor: string | null;
  limit: number;
  sort: typeof ASCENDING | null;
  /** The query's filters, when sent. */
  filters: NirvanaPushDown | null;
  /** Filter parameters sent instead of the query's, to learn what the upstream applies or counts. */
  otherParams?: NirvanaFilterParams;
}

/** One upstream page, normalised. */
interface NirvanaPage {
  events: AuditEventModel[];
  next: string | null;
  previous: string | null;
  /** `pagination.total_count`, when the upstream gave a whole number. */
  total: number | null;
}

/** A batch that continues at `cursor` (as a `key` state), tagged with whether filters were sent. */
function batch(page: NirvanaPage, key: 'c' | 'a' | 'p', cursor: string | null, filtered: boolean, counter: RequestCounter): ListEventsResult {
  return {
    events: page.events,
    next: page.events.length > 0 ? resumeAt(key, cursor, filtered) : null,
    upstreamRequests: counter.requests,
    ...unusableOf(counter),
  };
}

/** One step of the seed-era walk to the oldest page; that page is handed out, and the way back begins. */
function walkStep(page: NirvanaPage, filtered: boolean, counter: RequestCounter): ListEventsResult {
  if (page.events.length > 0 && page.next) return { events: [], next: resumeAt('w', page.next, filtered), upstreamRequests: counter.requests, ...unusableOf(counter) };
  return batch(page, 'p', page.previous, filtered, counter);
}

function resumeAt(key: 'c' | 'a' | 'w' | 'p', cursor: string | null, filtered: boolean): NirvanaResume | null {
  if (cursor === null) return null;
  return { ...({ [key]: cursor } as ResumePosition), ...(filtered ? { f: 1 as const } : {}) };
}

/** A 400 or 422: the upstream does not take what it was sent (as opposed to failing to answer). */
function isRefusal(error: unknown): boolean {
  return error instanceof UpstreamError && (error.httpStatus === 400 || error.httpStatus === 422);
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

/** The cursor keys each direction issues: a state of the other direction is not one of this traversal. */
const RESUME_KEYS = { DESC: ['c'], ASC: ['a', 'w', 'p'] } as const;

function parseResume(value: unknown, direction: ListEventsRequest['direction'], sourceId: string): NirvanaResume | null {
  if (value === null) return null;
  if (isJsonObject(value)) {
    const { f, ...position } = value;
    const entries = Object.entries(position);
    const [key, cursor] = entries[0] ?? [];
    const known = (RESUME_KEYS[direction] as readonly string[]).includes(key ?? '');
    if (entries.length === 1 && known && typeof cursor === 'string' && (f === undefined || f === 1)) {
      return { ...({ [key!]: cursor } as ResumePosition), ...(f === 1 ? { f: 1 as const } : {}) };
    }
  }
  throw new UpstreamError(ErrorCode.UpstreamCursorExpired, sourceId, { logDetail: { reason: 'unreadable resume state' } });
}
