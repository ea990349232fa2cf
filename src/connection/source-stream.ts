import { cacheKey } from '../cache/cache';
import type { BatchCache } from '../connection/caches';
import { ErrorCode, UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import type { JsonValue } from '../models/json';
import type { AuditDataSource, Direction, ListEventsResult, SourceQuery } from '../sources/data-source';
import { MAX_GROWTH, type SourceCursorState } from './cursor';
import { compareEventToKey, compareEvents, compareKeys, compareWithinSource, keyOf, type EventKey } from './order';

/**
 * Read-ahead outlives the request that started it (the response is sent before it ends); each
 * upstream call still has the upstream client's own deadline.
 */
const READ_AHEAD_SIGNAL = new AbortController().signal;
/**
 * The largest batch growth asks for: the batch cache holds whole batches, and a traversal keeps
 * its current batch of every source there while its pages read through it.
 */
const GROWN_BATCH_MAX = 1000;
/** The smallest first batch of a source in a merged page (see `fetchMore`). */
const MIN_MERGED_BATCH = 20;

/** Options for one {@link SourceStream}. */
export interface SourceStreamOptions {
  dataSource: AuditDataSource;
  query: SourceQuery;
  direction: Direction;
  /** Where the source stood; undefined = not read yet in this traversal. */
  state: SourceCursorState | undefined;
  /** Events after this instant (ms) are outside the traversal's snapshot. */
  asOfMs: number;
  /** Skip everything at or before this key (a traversal resumed in the other direction). */
  skipThrough: EventKey | null;
  /** The gateway-side filter. */
  matches: (event: AuditEventModel) => boolean;
  /** Upstream requests this source may make for one page. */
  requestBudget: number;
  /**
   * After this instant (epoch ms), a stream that made an upstream request for this page makes no
   * more: see `EventConnectionDeps.scanUntilMs`.
   */
  scanUntilMs?: number;
  /** True when this is the only source of the page. */
  alone: boolean;
  /** How many sources the page merges (this one included); 2 when absent and not alone. */
  sources?: number;
  cache: BatchCache;
  signal: AbortSignal;
}

interface PendingEvent {
  event: AuditEventModel;
  batch: number;
}

interface BatchRecord {
  seq: number;
  /** The resume state that fetched this batch: re-reading from it yields the batch again. */
  resume: JsonValue;
  /** Events of the batch still waiting to be listed. */
  waiting: number;
}

/**
 * One source's events in the traversal order, pulled batch by batch.
 *
 * Datasources only promise batches that are monotone in time; ties may straddle batches and come
 * in any order. So an event is *settled* (safe to list) only when its time is strictly beyond the
 * newest-seen edge of the upstream stream (the frontier), or the stream is exhausted: then no
 * later batch can hold an event that sorts before it.
 *
 * The cursor state of the stream is the resume state of the oldest batch that still holds an
 * unlisted event, plus the key of the last listed event. Resuming re-reads that batch (normally
 * from the batch cache) and skips what was listed, so a page never re-reads from the start and
 * never loses an event of a tie group split across upstream pages.
 */
export class SourceStream {
  readonly sourceId: string;
  private readonly pending: PendingEvent[] = [];
  /** `time\0id` of every pending event, so that an upstream repeating an event lists it once. */
  private readonly pendingKeys = new Set<string>();
  /**
   * The batch read before the current one: a repeat of one of its events is not out of order
   * (upstream offsets shift by a few events). Only one is kept, so that a scan does not hold
   * every batch it read until its page ends.
   */
  private previousBatch: readonly AuditEventModel[] = [];
  private readonly batches: BatchRecord[] = [];
  private batchSeq = 0;
  private nextResume: JsonValue;
  private exhausted: boolean;
  private frontierMs: number | null = null;
  private lastListed: [number, string] | null;
  private fetched = false;
  /** Batches read this page, cached or not: bounds a page even when every read is a cache hit. */
  private batchesRead = 0;
  /**
   * True after a batch that gave nothing to list because it was empty or the filter, the snapshot
   * or a turn left all of it out: the stream is scanning past what no page lists, so it reads the
   * largest pages.
   * A batch that only repeats what earlier pages listed (the one a page left off in, read again
   * when a traversal goes on) says nothing about what follows, and is no reason to scan.
   */
  private scanning = false;
  private queryText: string | undefined;
  /** The error that stopped this stream for this page, if any. */
  failure: UpstreamError | null = null;
  /** Upstream requests made for this page. */
  requests = 0;
  /** Records of the batches read for this page that the source could not place (see `normalizePage`). */
  unusableRecords = 0;
  /** True when the request budget ran out before the stream could settle its next event. */
  budgetSpent = false;
  /** Events taken for this page. */
  private taken = 0;
  /** The resume state the page started from, as text. */
  private readonly initialResumeText: string;
  /** Batches read by the earlier pages of the traversal (the cursor's `g`). */
  private priorGrowth: number;

  constructor(private readonly options: SourceStreamOptions) {
    this.sourceId = options.dataSource.sourceId;
    this.nextResume = options.state?.r ?? null;
    this.initialResumeText = JSON.stringify(this.nextResume);
    this.exhausted = options.state?.x === 1;
    this.lastListed = options.state?.k ?? null;
    this.priorGrowth = options.state?.g ?? 0;
  }

  get direction(): Direction {
    return this.options.direction;
  }

  /** True when nothing more can come from this stream in this page. */
  get finished(): boolean {
    return this.failure !== null || this.budgetSpent || (this.exhausted && this.pending.length === 0);
  }

  get isExhausted(): boolean {
    return this.exhausted && this.pending.length === 0;
  }

  /** The next event if it is settled, else null. */
  settledHead(): AuditEventModel | null {
    const head = this.pending[0];
    if (!head || this.failure) return null;
    if (this.exhausted || this.frontierMs === null) return this.exhausted ? head.event : null;
    const t = head.event.occurredAtMs;
    return (this.options.direction === 'DESC' ? t > this.frontierMs : t < this.frontierMs) ? head.event : null;
  }

  /**
   * True when `event` (of another source) certainly sorts before every event this stream has yet to
   * list. Lets the merge list events without fetching from a source whose next batch cannot win.
   */
  isBehind(event: AuditEventModel): boolean {
    if (this.exhausted && this.pending.length === 0) return true;
    const head = this.settledHead();
    if (head) return compareEvents(event, head, this.options.direction) < 0;
    if (!this.fetched || this.frontierMs === null) return false;
    // Unlisted events of this stream are at the frontier or beyond it; compare on (time, source).
    return compareEventToKey(event, [this.frontierMs, this.sourceId, ''], this.options.direction) < 0;
  }

  /** Takes the head, which must be settled. */
  take(): AuditEventModel {
    const head = this.pending.shift();
    if (!head) throw new Error('SourceStream.take called on an empty stream');
    const { occurredAtMs, sourceEventId } = head.event;
    this.release(head);
    // An upstream that repeats an event (an overlapping window, a retried page) lists it once:
    // pending is sorted, so its copies are next in line.
    while (this.pending[0] && this.pending[0].event.occurredAtMs === occurredAtMs && this.pending[0].event.sourceEventId === sourceEventId) {
      this.release(this.pending.shift()!);
    }
    while (this.batches.length > 0 && this.batches[0]!.waiting === 0) this.batches.shift();
    this.lastListed = [occurredAtMs, sourceEventId];
    this.taken += 1;
    return head.event;
  }

  private release(entry: PendingEvent): void {
    const record = this.batches.find((batch) => batch.seq === entry.batch);
    if (record) record.waiting -= 1;
  }

  /** The cursor state after the events taken so far. */
  state(): SourceCursorState {
    // `null` is a real resume state (the start of the window), so no `??` here.
    const oldest = this.batches[0];
    const state: SourceCursorState = { r: oldest ? oldest.resume : this.nextResume };
    if (this.lastListed) state.k = this.lastListed;
    if (this.exhausted && this.pending.length === 0) state.x = 1;
    // A page that resumed re-read its first batch from where the last one stopped: only the
    // batches after it are new to the traversal.
    const growth = Math.min(MAX_GROWTH, this.priorGrowth + Math.max(0, this.batchesRead - (this.options.state ? 1 : 0)));
    if (growth > 0) state.g = growth;
    return state;
  }

  /**
   * Fetches one more batch for a page of `pageSize` events. Failures are kept in `failure`,
   * never thrown.
   *
   * A source read alone reads a whole page plus a margin of a tenth (at least 2): a tie group at
   * the tail of a batch is unsettled until the next batch, so the margin usually settles a page
   * in one request. A source of a merged page first reads its share of the page with a margin of
   * a quarter, at least MIN_MERGED_BATCH events: reading a whole page from each of n sources
   * would parse and normalise n pages to list one, and keep n - 1 pages per traversal in the batch
   * cache, which many traversals at once then evict from each other. A source that gives more
   * than its share reads on in batches that double (see `listBatch`).
   */
  async fetchMore(pageSize: number): Promise<void> {
    if (this.finished || this.exhausted) return;
    const budget = this.options.requestBudget;
    // Out of time: stop reading on, as when out of requests. One upstream request first, so
    // that every page of a long scan gets further than the one before.
    if (this.requests > 0 && this.options.scanUntilMs !== undefined && Date.now() >= this.options.scanUntilMs) {
      this.budgetSpent = true;
      return;
    }
    if (this.requests >= budget || this.batchesRead >= budget * 10) {
      // A tie group larger than one page may read is read on by the next pages, from the batch
      // cache, up to ten times the budget in batches. A page that reaches that having listed
      // nothing would resume where it began, for ever: the source fails for the page instead,
      // with a code that says why.
      if (this.batchesRead >= budget * 10 && this.stuckInTieGroup()) {
        this.failure = new UpstreamError(ErrorCode.TieGroupTooLarge, this.options.dataSource.sourceId, {
          logDetail: { reason: 'tie group larger than a page may read', instantMs: this.frontierMs, eventsHeld: this.pending.length },
        });
        return;
      }
      this.budgetSpent = true;
      return;
    }
    const { dataSource, signal } = this.options;
    const resume = this.nextResume;
    const growth = this.priorGrowth + this.batchesRead;
    const rereading = this.options.state !== undefined && this.batchesRead === 0;
    this.batchesRead += 1;
    try {
      const { result, cached } = await this.options.cache.getOrFetch(this.batchKey(resume), () => {
        if (!rereading) return this.listBatch(resume, pageSize, signal, growth);
        // The batch the last page left off in is gone from the cache: other traversals needed
        // the room. Grown batches would be evicted before their next page too, each re-read whole
        // for the few events a page takes from it, so this traversal starts growing afresh.
        this.priorGrowth = 0;
        return this.listBatch(resume, pageSize, signal, 0);
      });
      if (!cached) this.requests += result.upstreamRequests;
      // Counted on every read, cached or not: a batch read ahead is first shown on the page that reads it.
      this.unusableRecords += result.unusableRecords ?? 0;
      if (result.next !== null && JSON.stringify(result.next) === JSON.stringify(resume)) {
        throw new UpstreamError(ErrorCode.UpstreamProtocolError, dataSource.sourceId, { logDetail: { reason: 'resume state did not advance' } });
      }
      this.fetched = true;
      const { listed, leftOut } = this.accept(result.events, resume);
      this.scanning = listed === 0 && (leftOut > 0 || result.events.length === 0);
      this.nextResume = result.next;
      this.exhausted = result.next === null || this.beyondWindow();
    } catch (error) {
      this.failure =
        error instanceof UpstreamError
          ? error
          : new UpstreamError(ErrorCode.UpstreamUnavailable, dataSource.sourceId, { logDetail: { reason: String(error) } });
    }
  }

  /**
   * Starts reading the batch after the last one read, without waiting for it, when fewer than
   * `pageSize` events are buffered. A client paging on then finds that batch in the cache (or in
   * flight) instead of waiting for the upstream while its next page is served. Called only for
   * pages that continue a traversal, so a client that reads one page costs no extra requests.
   * A failed read-ahead is dropped and never cached: the next page fetches for itself.
   */
  readAhead(pageSize: number): void {
    if (this.failure || this.exhausted || !this.fetched || this.pending.length >= pageSize) return;
    const resume = this.nextResume;
    const growth = this.priorGrowth + this.batchesRead;
    this.options.cache.getOrFetch(this.batchKey(resume), () => this.listBatch(resume, pageSize, READ_AHEAD_SIGNAL, growth)).catch(() => undefined);
  }

  /** The batch cache key of the batch that starts at `resume`; the batch size is not part of it. */
  private batchKey(resume: JsonValue): string {
    this.queryText ??= JSON.stringify(this.options.query);
    return cacheKey(this.options.dataSource.sourceId, this.queryText, this.options.direction, JSON.stringify(resume));
  }

  /**
   * Reads the batch at `resume`. A traversal's first batch is sized for its page; every further
   * batch, in the same page or a later one, is twice the one before (`growth`: batches the
   * traversal has read so far), up to the source's largest page or GROWN_BATCH_MAX events, and a
   * stream that is scanning reads the largest pages at once. A first page stays small and fast;
   * a long traversal or a page that reads far (a filter the gateway applies, a tie group, a
   * grouped nested page) costs a logarithmic number of requests more than its events need,
   * never one request per page.
   */
  private listBatch(resume: JsonValue, pageSize: number, signal: AbortSignal, growth = 0): Promise<ListEventsResult> {
    const { dataSource, direction, query } = this.options;
    const { minPageSize: min, maxPageSize: max } = dataSource.capabilities;
    const sized = this.options.alone ? pageSize + Math.max(2, Math.ceil(pageSize * 0.1)) : Math.max(Math.min(pageSize + 1, MIN_MERGED_BATCH), Math.ceil((pageSize * 1.25) / (this.options.sources ?? 2)));
    const wanted = growth === 0 ? sized : Math.max(sized, Math.min(GROWN_BATCH_MAX, sized * 2 ** Math.min(growth, MAX_GROWTH)));
    const limit = this.scanning ? max : Math.max(min, Math.min(max, wanted));
    return dataSource.listEvents({ direction, query, resume, limit, signal });
  }

  /** Adds a batch's events to those waiting; says how many it added and how many it left out unlisted. */
  private accept(events: readonly AuditEventModel[], resume: JsonValue): { listed: number; leftOut: number } {
    const { direction, asOfMs, skipThrough, matches } = this.options;
    const descending = direction === 'DESC';
    const lastListed = this.lastListed;
    const seq = ++this.batchSeq;
    let waiting = 0;
    let leftOut = 0;
    // Batches are monotone: nothing new in this one should lie before the furthest time seen in
    // earlier ones (a repeat of the batch before is fine: offsets shift). An upstream that
    // breaks that sends an event the traversal may already have passed: it is listed in its
    // place if nothing after it was listed yet, else counted as unusable (a warning and the
    // source's status say so), never skipped silently as if listed.
    const earlierFrontier = this.frontierMs;
    for (const event of events) {
      const t = event.occurredAtMs;
      const misplaced = earlierFrontier !== null && (descending ? t > earlierFrontier : t < earlierFrontier) && !this.readBefore(event);
      if (this.frontierMs === null || (descending ? t < this.frontierMs : t > this.frontierMs)) this.frontierMs = t;
      if (t > asOfMs) {
        leftOut += 1;
        continue;
      }
      // A batch re-read from the cache holds what earlier pages listed: skip it before anything else.
      const passed = lastListed !== null && ((descending ? t > lastListed[0] : t < lastListed[0]) || (t === lastListed[0] && compareWithinSource([t, event.sourceEventId], lastListed, direction) <= 0));
      if (passed) {
        if (misplaced) this.unusableRecords += 1;
        continue;
      }
      if ((skipThrough && compareEventToKey(event, skipThrough, direction) <= 0) || !matches(event)) {
        leftOut += 1;
        continue;
      }
      this.pending.push({ event, batch: seq });
      waiting += 1;
    }
    this.previousBatch = events;
    if (waiting > 0) {
      this.batches.push({ seq, resume, waiting });
      this.pending.sort((a, b) => compareEvents(a.event, b.event, direction));
    }
    return { listed: waiting, leftOut };
  }

  /** True when the batch before held `event` (searched only for the rare event out of order). */
  private readBefore(event: AuditEventModel): boolean {
    return this.previousBatch.some((seen) => seen.occurredAtMs === event.occurredAtMs && seen.sourceEventId === event.sourceEventId);
  }

  /**
   * True when the next page would start exactly where this one did: nothing taken yet, the events
   * held all share the frontier's instant (none settled), and they come from the first batch read.
   */
  private stuckInTieGroup(): boolean {
    return this.taken === 0 && this.pending.length > 0 && !this.exhausted && this.settledHead() === null && JSON.stringify(this.batches[0]?.resume ?? null) === this.initialResumeText;
  }

  /** True once the frontier has passed the end of the window or the snapshot: nothing later can match. */
  private beyondWindow(): boolean {
    if (this.frontierMs === null) return false;
    const { direction, query, asOfMs } = this.options;
    if (direction === 'DESC') return query.fromMs !== null && this.frontierMs < query.fromMs;
    return this.frontierMs > asOfMs || (query.toMs !== null && this.frontierMs >= query.toMs);
  }
}
