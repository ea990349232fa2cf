import { cacheKey } from '../cache/cache';
import type { FetchCache } from '../cache/fetch-cache';
import type { AuditEventModel } from '../models/audit-event';
import type { NativeSearchOperations, SearchCandidates } from '../sources/compliance';
import type { AuditDataSource, EventRef, ListEventsRequest, ListEventsResult, SourceQuery } from '../sources/data-source';
import type { SearchTerm } from './query-parser';

/** A vendor's candidates for one term and window (`events` null when its search cannot promise them all). */
export type CandidatesCache = FetchCache<SearchCandidates>;

export type SearchMethod = 'NATIVE' | 'SCANNED';

/**
 * A source whose vendor searches, as the connection engine reads it for one search: the first
 * batch of a traversal is the vendor's candidates for the search's most telling term (every event
 * that may match, in one batch, which the engine then checks against the whole query), and the
 * source is read as usual when the vendor cannot promise all candidates. Both kinds of batch
 * start from the window's start (resume null), and a continuing batch always comes from the
 * source itself, so a traversal is exact whichever kind each page got: the engine skips what
 * was listed by key, and candidates are a single batch with nothing after it.
 */
export class NativeSearchSource implements AuditDataSource {
  readonly sourceId: string;
  readonly vendor: AuditDataSource['vendor'];
  readonly displayName: string;
  readonly capabilities: AuditDataSource['capabilities'];
  readonly currentRetentionDays?: (signal: AbortSignal) => Promise<number | null>;
  /** How this page read the source, once it read it (a page served from cached batches does not). */
  method: SearchMethod | null = null;
  /** Longest term first: the longer the text, the fewer the candidates. */
  private readonly terms: SearchTerm[];

  constructor(
    private readonly inner: AuditDataSource,
    private readonly search: NativeSearchOperations & Required<Pick<NativeSearchOperations, 'candidates'>>,
    terms: readonly SearchTerm[],
    private readonly cache: CandidatesCache,
  ) {
    this.sourceId = inner.sourceId;
    this.vendor = inner.vendor;
    this.displayName = inner.displayName;
    this.capabilities = inner.capabilities;
    if (inner.currentRetentionDays) this.currentRetentionDays = (signal) => inner.currentRetentionDays!(signal);
    this.terms = [...terms].sort((a, b) => b.text.length - a.text.length);
  }

  async listEvents(request: ListEventsRequest): Promise<ListEventsResult> {
    if (request.resume === null) {
      const { found, upstreamRequests } = await this.candidates(request.query, request.signal);
      if (found) {
        this.method = 'NATIVE';
        const events = [...found].sort((a, b) => (request.direction === 'DESC' ? b.occurredAtMs - a.occurredAtMs : a.occurredAtMs - b.occurredAtMs));
        return { events, next: null, upstreamRequests };
      }
      const result = await this.inner.listEvents(request);
      this.method = 'SCANNED';
      return { ...result, upstreamRequests: result.upstreamRequests + upstreamRequests };
    }
    this.method = 'SCANNED';
    return this.inner.listEvents(request);
  }

  /**
   * How a traversal of `query` reads this source, from what is known without asking anyone: a
   * page whose batches all came from the cache never called {@link listEvents}.
   */
  async methodFor(query: SourceQuery): Promise<SearchMethod> {
    if (this.method) return this.method;
    for (const term of this.terms) {
      const known = await this.cache.peek(this.keyOf(term, query));
      if (known?.events) return 'NATIVE';
      if (!known) break;
    }
    return 'SCANNED';
  }

  /** The first term's candidates the vendor can promise, each asked once per window (cached); with the requests made. */
  private async candidates(query: SourceQuery, signal: AbortSignal): Promise<{ found: AuditEventModel[] | null; upstreamRequests: number }> {
    let upstreamRequests = 0;
    for (const term of this.terms) {
      const input = { text: term.text, part: term.part, fromMs: query.fromMs, toMs: query.toMs };
      const { result, cached } = await this.cache.getOrFetch(this.keyOf(term, query), () => this.search.candidates(input, signal));
      if (!cached) upstreamRequests += result.upstreamRequests;
      if (result.events) return { found: result.events, upstreamRequests };
    }
    return { found: null, upstreamRequests };
  }

  private keyOf(term: SearchTerm, query: SourceQuery): string {
    return cacheKey(this.sourceId, term.part, term.text, String(query.fromMs), String(query.toMs));
  }

  getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null> {
    return this.inner.getEvent(ref, signal);
  }

  /** The source itself is closed by the registry that owns it. */
  async close(): Promise<void> {}
}
