import { ErrorCode, UpstreamError } from '../../errors';
import { queryMatcher } from '../../sources/query-matcher';
import type { RequestCounter } from '../../http/upstream-client';
import type { AuditEventModel } from '../../models/audit-event';
import { isJsonObject } from '../../models/json';
import type { EventRef, ListEventsRequest, ListEventsResult, SourceCapabilities, SourceQuery } from '../../sources/data-source';
import { HttpDataSource } from '../../sources/http-datasource';
import { unusableOf } from '../../sources/normalize-page';
import type { BaseSourceConfig, DataSourceDeps } from '../../sources/vendor-module';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from './normalize';
import { NIRVANA_NATIVE_FILTERS, nirvanaPushDown, UNMATCHABLE_VALUES, type NirvanaFilterParams, type NirvanaPushDown } from './push-down';
import { ASCENDING, DESCENDING, nirvanaResumeSchema, resumeAt, toNirvanaResume, type NirvanaResume, type NirvanaResumeState, type NirvanaSort, type ResumeKey } from './resume';

/** Nirvana's config keys besides the common ones. */
export interface NirvanaCredentials extends Record<string, unknown> {
  apiKey: string;
}

/** The page-size bounds of `GET /v1/audit_logs` (docs: minimum 10, maximum 100). */
const MIN_LIMIT = 10;
const MAX_LIMIT = 100;

/**
 * Whether the upstream lists in the order a `sort` value asks for, learned from first pages.
 * `ignored`: it refused the value (400, 422) or answered in another order; it is not sent again.
 */
type SortSupport = 'unknown' | 'honoured' | 'ignored';

/**
 * What the upstream does with the list filters. `refused`: it answered them with a 400 or 422
 * (and the same request without them was answered); `ignored`: it listed an entry they exclude.
 * Either way, no new listing sends them again.
 */
type FilterSupport = 'unknown' | 'accepted' | 'refused' | 'ignored';

/** A page and what the request that fetched it carried: its cursors are continued with the same. */
interface Listing {
  page: NirvanaPage;
  filtered: boolean;
  sort: NirvanaSort | null;
}

/**
 * Nirvana Labs audit logs (`GET /v1/audit_logs`, `GET /v1/audit_logs/{id}`), API key as Bearer.
 * Lists with `cursor` and `limit`, plus `sort=created_at:desc` (newest first) or
 * `sort=created_at:asc` (oldest first) where the upstream honours them (the current API; the
 * legacy one ignores `sort`, so newest first relies on its default order and oldest first walks
 * back from the oldest page), and the filters of `push-down.ts` where the upstream takes them (the
 * legacy API ignores or refuses them; then the gateway's own filtering does all the work).
 * Resume states are described in `resume.ts`.
 */
export class NirvanaDataSource extends HttpDataSource<NirvanaResumeState> {
  readonly vendor = 'nirvana' as const;
  protected readonly resumeSchema = nirvanaResumeSchema;
  private readonly sortSupport: Record<NirvanaSort, SortSupport> = { [ASCENDING]: 'unknown', [DESCENDING]: 'unknown' };
  private filterSupport: FilterSupport = 'unknown';
  /** Filter parameters proven applied (or not) upstream, for exact counts. */
  private readonly appliedParams = new Map<string, boolean>();
  private readonly headers: Record<string, string>;

  constructor(config: BaseSourceConfig & NirvanaCredentials, deps: DataSourceDeps) {
    super(config, deps, { defaultName: `Nirvana Labs (${config.id})`, secrets: [config.apiKey] });
    this.headers = { authorization: `Bearer ${config.apiKey}` };
  }

  /** The API key, as Bearer on every request. */
  protected authorize(): Record<string, string> {
    return this.headers;
  }

  /** Read on every batch: replaced (not rebuilt on each read) once the upstream's sort or filter support is known. */
  capabilities: SourceCapabilities = nirvanaCapabilities(false, true);

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    const counter: RequestCounter = { requests: 0 };
    const state = this.readResume(request.resume);
    const resume = state === null ? null : toNirvanaResume(state, request.direction, this.sourceId);
    const limit = clamp(request.limit);
    const pushDown = nirvanaPushDown(request.query);
    if (resume) return this.continueListing(resume, pushDown, limit, request.signal, counter);
    if (request.direction === 'DESC') {
      const first = await this.firstNewestPage(limit, request.signal, counter, pushDown);
      return batch(first, 'c', first.page.next, counter);
    }
    if (this.sortSupport[ASCENDING] !== 'ignored') {
      const probed = await this.firstAscendingPage(limit, request.signal, counter, pushDown);
      if (probed) return probed.sorted ? batch(probed, 'a', probed.page.next, counter) : walkStep(probed, counter);
    }
    // Oldest first without `sort=created_at:asc`: walk to the oldest page of the newest-first
    // listing in steps of the largest page, then hand out that page and follow `previous_cursor`
    // back up. One step per call keeps each call one request, so the gateway's per-page request
    // budget bounds the walk.
    const first = await this.firstNewestPage(MAX_LIMIT, request.signal, counter, pushDown);
    return walkStep(first, counter);
  }

  /** The next page of a state, asked with exactly the filters and sort the state was issued with. */
  private async continueListing(
    resume: NirvanaResume,
    pushDown: NirvanaPushDown,
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
  ): Promise<ListEventsResult> {
    const walking = resume.key === 'w';
    const page = await this.fetchPage(
      { cursor: resume.cursor, limit: walking ? MAX_LIMIT : limit, sort: resume.sort, filters: resume.filtered ? pushDown : null },
      signal,
      counter,
    );
    const listing: Listing = { page, filtered: resume.filtered, sort: resume.sort };
    if (walking) return walkStep(listing, counter);
    return batch(listing, resume.key, resume.key === 'p' ? page.previous : page.next, counter);
  }

  /**
   * The first page of a newest-first listing, asked with `sort=created_at:desc` unless the
   * upstream is known not to honour it. A refusal (400, 422) or an answer that is not newest
   * first shows that it does not: remembered, and the page is asked again without `sort`, in the
   * default order the legacy API lists in. An unsorted answer that is not newest first either
   * is a protocol error: the merge could not use its pages in any order.
   */
  private async firstNewestPage(limit: number, signal: AbortSignal, counter: RequestCounter, pushDown: NirvanaPushDown): Promise<Listing> {
    if (this.sortSupport[DESCENDING] !== 'ignored') {
      const sorted = await this.firstDescendingPage(limit, signal, counter, pushDown);
      if (sorted) return sorted;
    }
    const unsorted = await this.firstPage(limit, signal, counter, null, pushDown);
    if (!isNewestFirst(timeOrder(unsorted.page.events))) {
      throw new UpstreamError(ErrorCode.UpstreamProtocolError, this.sourceId, { logDetail: { reason: 'the listing without sort is not newest first' } });
    }
    return unsorted;
  }

  /** A first page asked with `sort=created_at:desc`; null when the upstream refused it or answered in another order. */
  private async firstDescendingPage(limit: number, signal: AbortSignal, counter: RequestCounter, pushDown: NirvanaPushDown): Promise<Listing | null> {
    const listing = await this.firstPageUnlessSortRefused(limit, signal, counter, DESCENDING, pushDown);
    if (!listing) return null;
    const order = timeOrder(listing.page.events);
    if (!isNewestFirst(order)) {
      this.learnSort(DESCENDING, 'ignored');
      return null;
    }
    // A page of one instant cannot tell; the next first page asks again.
    if (order === 'DESC') this.learnSort(DESCENDING, 'honoured');
    return listing;
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
  ): Promise<(Listing & { sorted: boolean }) | null> {
    const listing = await this.firstPageUnlessSortRefused(limit, signal, counter, ASCENDING, pushDown);
    if (!listing) return null;
    const order = timeOrder(listing.page.events);
    if (order === 'ASC' || (order === 'EQUAL' && listing.page.next === null)) {
      // A whole log in one page is listed in full whatever its order.
      if (order === 'ASC') this.learnSort(ASCENDING, 'honoured');
      return { ...listing, sorted: true };
    }
    if (order === 'DESC') {
      this.learnSort(ASCENDING, 'ignored');
      // Newest first after all: the newest page of a legacy listing, the walk's first step.
      return { ...listing, sorted: false };
    }
    return null;
  }

  /** A first page asked with `sort`; null, and the sort remembered as ignored, when the upstream refuses it. */
  private async firstPageUnlessSortRefused(
    limit: number,
    signal: AbortSignal,
    counter: RequestCounter,
    sort: NirvanaSort,
    pushDown: NirvanaPushDown,
  ): Promise<Listing | null> {
    try {
      return await this.firstPage(limit, signal, counter, sort, pushDown);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      this.learnSort(sort, 'ignored');
      return null;
    }
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
    sort: NirvanaSort | null,
    pushDown: NirvanaPushDown,
  ): Promise<Listing> {
    const unfiltered = { cursor: null, limit, sort, filters: null };
    if (!this.sendsFilters() || Object.keys(pushDown.params).length === 0) {
      return { page: await this.fetchPage(unfiltered, signal, counter), filtered: false, sort };
    }
    try {
      return { page: await this.fetchPage({ ...unfiltered, filters: pushDown }, signal, counter), filtered: true, sort };
    } catch (error) {
      if (!isRefusal(error)) throw error;
    }
    const page = await this.fetchPage(unfiltered, signal, counter);
    this.learnFilterSupport('refused');
    return { page, filtered: false, sort };
  }

  private learnSort(sort: NirvanaSort, support: SortSupport): void {
    if (this.sortSupport[sort] === support || this.sortSupport[sort] === 'ignored') return;
    this.sortSupport[sort] = support;
    if (support === 'ignored') this.logger.info({ source: this.sourceId, sort }, 'the upstream does not honour this sort; new listings go without it');
    this.updateCapabilities();
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
    this.capabilities = nirvanaCapabilities(this.sortSupport[ASCENDING] === 'honoured', this.sendsFilters());
  }

  async getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    return this.findEvent(ref.sourceEventId, signal);
  }

  /** `GET /v1/audit_logs/{id}`: Nirvana looks an entry up by its id alone. */
  async findEvent(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null> {
    const response = await this.send({ method: 'GET', path: `/v1/audit_logs/${encodeURIComponent(sourceEventId)}`, signal, acceptStatuses: [404] });
    if (response.status === 404) return null;
    return this.eventOf(response.body, parseNirvanaAuditLog, normalizeNirvanaAuditLog);
  }

  /**
   * Exact or null. A listing that fits in one page is counted here, whatever the upstream did
   * with the filters (it listed a superset of the query's events, all of them). Beyond one page,
   * `pagination.total_count` is the query's count only when every field of the query was sent
   * and each parameter sent is proven applied upstream (see {@link appliesParam}), less the
   * entries stamped exactly `toMs`, which the inclusive `created_at_max` lets through.
   */
  async countEvents(query: SourceQuery, signal: AbortSignal, counter: RequestCounter = { requests: 0 }): Promise<number | null> {
    const pushDown = nirvanaPushDown(query);
    // The total does not depend on the order: no sort, so nothing about it has to be learned here.
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

  private async fetchPage(ask: PageRequest, signal: AbortSignal, counter: RequestCounter): Promise<NirvanaPage> {
    const filterParams: NirvanaFilterParams = ask.otherParams ?? ask.filters?.params ?? {};
    const response = await this.send({
      method: 'GET',
      path: '/v1/audit_logs',
      query: { ...filterParams, limit: ask.limit, cursor: ask.cursor, sort: ask.sort },
      signal,
      counter,
    });
    const body = response.body;
    if (!isJsonObject(body)) throw this.malformed('body is not an object');
    const items = body['items'];
    const events = await this.eventsOf(items, parseNirvanaAuditLog, normalizeNirvanaAuditLog, counter);
    if (ask.filters && Object.keys(ask.filters.params).length > 0) {
      // An entry the filters exclude shows an upstream that does not apply them.
      this.learnFilterSupport(events.every(ask.filters.admits) ? 'accepted' : 'ignored');
    }
    const pagination = isJsonObject(body['pagination']) ? body['pagination'] : {};
    const total = pagination['total_count'];
    return {
      events,
      entries: Array.isArray(items) ? items.length : 0,
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
  sort: NirvanaSort | null;
  /** The query's filters, when sent. */
  filters: NirvanaPushDown | null;
  /** Filter parameters sent instead of the query's, to learn what the upstream applies or counts. */
  otherParams?: NirvanaFilterParams;
}

/** One upstream page, normalised. */
interface NirvanaPage {
  events: AuditEventModel[];
  /** Entries the page held, usable or not: a page of unusable entries still leads on. */
  entries: number;
  next: string | null;
  previous: string | null;
  /** `pagination.total_count`, when the upstream gave a whole number. */
  total: number | null;
}

/** A batch that continues at `cursor` as a `key` state of the same listing. */
function batch(listing: Listing, key: ResumeKey, cursor: string | null, counter: RequestCounter): ListEventsResult {
  return {
    events: listing.page.events,
    // Like the SDKs, a page without entries ends the listing, whatever its cursor says.
    next: listing.page.entries > 0 ? resumeAt(key, cursor, listing) : null,
    upstreamRequests: counter.requests,
    ...unusableOf(counter),
  };
}

/** One step of the walk to the oldest page of a newest-first listing; that page is handed out, and the way back begins. */
function walkStep(listing: Listing, counter: RequestCounter): ListEventsResult {
  const { page } = listing;
  if (page.entries > 0 && page.next) return { events: [], next: resumeAt('w', page.next, listing), upstreamRequests: counter.requests, ...unusableOf(counter) };
  return batch(listing, 'p', page.previous, counter);
}

/** A 400 or 422: the upstream does not take what it was sent (as opposed to failing to answer). */
function isRefusal(error: unknown): boolean {
  return error instanceof UpstreamError && (error.httpStatus === 400 || error.httpStatus === 422);
}

type TimeOrder = 'ASC' | 'DESC' | 'EQUAL' | 'MIXED';

/** The time order of a page as received: EQUAL when it has fewer than two distinct times. */
function timeOrder(events: readonly AuditEventModel[]): TimeOrder {
  let up = false;
  let down = false;
  for (let i = 1; i < events.length; i += 1) {
    const step = events[i]!.occurredAtMs - events[i - 1]!.occurredAtMs;
    if (step > 0) up = true;
    else if (step < 0) down = true;
  }
  return up && down ? 'MIXED' : up ? 'ASC' : down ? 'DESC' : 'EQUAL';
}

/** Whether a page in `order` may start a newest-first listing (one instant cannot contradict it). */
function isNewestFirst(order: TimeOrder): boolean {
  return order === 'DESC' || order === 'EQUAL';
}

function cursorOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function clamp(limit: number): number {
  return Math.max(MIN_LIMIT, Math.min(MAX_LIMIT, Math.floor(limit)));
}
