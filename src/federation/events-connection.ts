import { cacheKey } from '../cache/cache';
import type { GatewayCaches } from '../cache/fetch-cache';
import { UpstreamError } from '../errors';
import type { AuditEventModel } from '../models/audit-event';
import { retentionDaysOf, type Direction, type SourceQuery } from '../sources/data-source';
import type { SourceRegistry } from '../sources/registry';
import { cursorForDifferentQuery, type CursorCodec, type SourceCursorState } from './cursor';
import { selectEvents, type EventFilterInput, type EventSelection } from './filter';
import { encodeGlobalId } from './global-id';
import { mergePage } from './merge';
import { keyOf, reverse, type EventKey } from './order';
import { parsePaging, type Paging, type PagingArgs } from './paging-args';
import { SourceStream } from './source-stream';

/** Arguments of `auditEvents`, `Actor.events` and `Target.events`. */
export interface EventConnectionArgs extends PagingArgs {
  filter?: EventFilterInput | null;
  orderBy?: { direction?: Direction | null } | null;
}

/** What the connection engine needs from the gateway. */
export interface EventConnectionDeps {
  sources: SourceRegistry;
  cursors: CursorCodec;
  caches: GatewayCaches;
  /** Upstream requests one source may make for one page. */
  scanBudgetRequests: number;
  /** See `ServerConfig.settleWindowMs`; required, so that no path to the engine forgets it. */
  settleWindowMs: number;
  signal: AbortSignal;
  now?: () => number;
}

export type SourcePageState = 'OK' | 'EXHAUSTED' | 'FAILED' | 'SKIPPED' | 'NOT_APPLICABLE';

/** How one source took part in one page. */
export interface SourcePageStatusModel {
  sourceId: string;
  status: SourcePageState;
  errorCode: string | null;
  upstreamRequests: number;
  /** Records of the upstream pages read for this page that could not be placed, and so were left out. */
  unusableRecords: number;
  /** Where the source's retention cuts the filter's window; null when it does not. */
  retainedFrom: Date | null;
}

/** Something the client should know about a page that is not an error: the data is whole as far as it goes. */
export type ConnectionWarning =
  | {
      code: 'SOURCE_RETENTION_EXCEEDED';
      message: string;
      source: string;
      /** ISO 8601: the oldest instant the source still keeps. */
      retainedFrom: string;
    }
  | {
      code: 'FILTER_NOT_APPLICABLE';
      message: string;
      source: string;
      /** The filter fields the source's records never carry, e.g. `filter.actorEmails`. */
      fields: string[];
    }
  | {
      code: 'UNUSABLE_RECORDS';
      message: string;
      source: string;
      /** Records left out: the upstream sent them without a usable time or identity. */
      count: number;
    };

export interface EventEdgeModel {
  node: AuditEventModel;
  /** Encodes the edge's cursor; lazy, because most clients only read `pageInfo` cursors. */
  cursor: () => string;
}

/** Relay page info; the cursors are computed when read. */
export interface PageInfoModel {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly startCursor: string | null;
  readonly endCursor: string | null;
}

/** The connection resolvers turn into `AuditEventConnection`. */
export interface EventConnectionModel {
  edges: EventEdgeModel[];
  pageInfo: PageInfoModel;
  asOf: Date;
  sourceStatuses: SourcePageStatusModel[];
  /** Exact total over the selected sources, or null when one of them cannot count for this filter. */
  totalCount: () => Promise<number | null>;
  /** Sources that failed for this page; reported in `errors` next to the partial data. */
  errors: UpstreamError[];
  /** Reported in the response's `extensions.warnings`. */
  warnings: ConnectionWarning[];
  /** True when every source read failed and nothing was listed: there is no partial answer. */
  allSourcesFailed: boolean;
}

/**
 * One page of audit events merged across sources: validates the arguments, decodes and checks the
 * cursor, resumes each source where the cursor left it, merges, and builds Relay page info.
 */
export async function loadEventConnection(args: EventConnectionArgs, deps: EventConnectionDeps): Promise<EventConnectionModel> {
  const paging = parsePaging(args);
  const order: Direction = args.orderBy?.direction ?? 'DESC';
  const selection = selectEvents(args.filter, deps.sources.filterable, order);
  const traversal: Direction = paging.mode === 'forward' ? order : reverse(order);
  const now = deps.now?.() ?? Date.now();

  let asOfMs = snapshotOf(now, deps.settleWindowMs);
  let position: EventKey | null = null;
  let baseStates: Record<string, SourceCursorState> = {};
  // Where this traversal started when it did not start at an end of the window: every page of it
  // reads the sources bounded there.
  let origin: EventKey | null = null;
  if (paging.cursor !== null) {
    const cursor = deps.cursors.decode(paging.cursor, paging.cursorArgument, now);
    if (cursor.q !== selection.fingerprint) throw cursorForDifferentQuery(paging.cursorArgument);
    position = cursor.p;
    if (cursor.e === 1 && cursor.d === 'ASC' && traversal === 'ASC') {
      // A tail: everything up to the old snapshot was listed, so a newer snapshot from the same
      // position adds only events after it. Sources seek afresh: their old states ended at `a`.
      asOfMs = Math.max(cursor.a, asOfMs);
      origin = position;
    } else if (cursor.d === traversal && cursor.m !== 1) {
      // The same traversal continues: each source resumes where it stood, under the same bounds.
      asOfMs = cursor.a;
      baseStates = cursor.s;
      origin = cursor.o ?? null;
      // A page of a turned traversal that listed nothing still stands at its origin.
      position ??= origin;
    } else {
      // Source states only continue a traversal in the direction they were built in; the other
      // way (or when the cursor has none), a new traversal starts at the cursor's position.
      asOfMs = cursor.a;
      origin = position;
      // No position: the cursor stands before the first event of its own direction, so nothing
      // lies beyond it the other way.
      if (position === null && cursor.d !== traversal) baseStates = Object.fromEntries(selection.sourceIds.map((id) => [id, { r: null, x: 1 as const }]));
    }
  }

  const streams = openStreams(selection, traversal, asOfMs, origin, baseStates, deps);
  const [merged, retentionDays] = await Promise.all([
    mergePage(streams, { limit: paging.count + 1, fetchSize: paging.count + 1, baseStates }),
    retentionOf(selection, deps),
  ]);
  if (paging.cursor !== null) for (const stream of streams) stream.readAhead(paging.count + 1);
  const hasMore = merged.edges.length > paging.count;
  const listed = merged.edges.slice(0, paging.count);
  const failures = streams.flatMap((stream) => (stream.failure ? [stream.failure] : []));

  const encode = (p: EventKey | null, states: Record<string, SourceCursorState>, tail = false): string =>
    deps.cursors.encode({
      q: selection.fingerprint,
      a: asOfMs,
      i: Math.floor(now / 1000),
      d: traversal,
      p,
      s: states,
      ...(tail ? { e: 1 as const } : origin ? { o: origin } : {}),
    });
  const lastListed = listed[listed.length - 1];
  // A full page resumes after its last edge (the look-ahead event was read, not listed). A page
  // that stopped short resumes from the scan position, which may lie past its last edge.
  const stoppedShort = !hasMore && (merged.budgetSpent || failures.length > 0);
  // The last page of an oldest-first traversal ends in a tail cursor, even when it lists nothing,
  // so that a client can follow the log as it grows (the way Asana's event stream is read).
  const tail = paging.mode === 'forward' && traversal === 'ASC' && !hasMore && !stoppedShort;
  return buildConnection({
    paging,
    selection,
    streams,
    asOfMs,
    deps,
    retentionDays,
    listed: listed.map((edge) => ({ event: edge.event, cursor: () => encode(keyOf(edge.event), edge.states()) })),
    moreInTraversal: hasMore || stoppedShort,
    resumeCursor: stoppedShort ? () => encode(lastListed ? keyOf(lastListed.event) : position, merged.finalStates) : null,
    tailCursor: tail ? () => encode(lastListed ? keyOf(lastListed.event) : position, {}, true) : null,
  });
}

/** The snapshot instant of a traversal starting at `nowMs`. */
export function snapshotOf(nowMs: number, settleWindowMs = 0): number {
  // One millisecond back: an event written later within the current millisecond must not join
  // a snapshot that has already been handed out.
  return nowMs - settleWindowMs - 1;
}

/**
 * One stream per selected source, resumed from `baseStates`; with an `origin`, every source reads
 * only what lies beyond it in the traversal.
 */
export function openStreams(
  selection: EventSelection,
  traversal: Direction,
  asOfMs: number,
  origin: EventKey | null,
  baseStates: Record<string, SourceCursorState>,
  deps: EventConnectionDeps,
): SourceStream[] {
  return selection.sourceIds.map((sourceId) => {
    const registered = deps.sources.get(sourceId)!;
    return new SourceStream({
      dataSource: registered.dataSource,
      query: boundQuery(selection.queries.get(sourceId)!, asOfMs, origin, traversal),
      direction: traversal,
      state: baseStates[sourceId],
      asOfMs,
      skipThrough: origin,
      matches: selection.matches,
      requestBudget: deps.scanBudgetRequests,
      alone: selection.sourceIds.length === 1,
      cache: deps.caches.batches,
      signal: deps.signal,
    });
  });
}

/** What {@link buildConnection} turns into a connection. */
export interface ConnectionParts {
  paging: Paging;
  selection: EventSelection;
  /** The streams read for this page (their status, failures and request counts). */
  streams: readonly SourceStream[];
  asOfMs: number;
  deps: EventConnectionDeps;
  /** Days each source keeps events, from {@link retentionOf}. */
  retentionDays: ReadonlyMap<string, number | null>;
  /** The listed events in traversal order, with their cursors. */
  listed: Array<{ event: AuditEventModel; cursor: () => string }>;
  /** True when more events may follow in the traversal. */
  moreInTraversal: boolean;
  /** Where to resume when the page stopped short of its size; null = after the last edge. */
  resumeCursor: (() => string) | null;
  /** The endCursor of a forward page that ended the traversal and can be followed later; see `CursorPayload.e`. */
  tailCursor?: (() => string) | null;
}

/** Relay edges and page info, source statuses and the lazy total of one page. */
export function buildConnection(parts: ConnectionParts): EventConnectionModel {
  const { paging, selection, streams, asOfMs, deps, listed, moreInTraversal } = parts;
  // Remembered for refetching by id; fire and forget, the page does not wait for the cache.
  for (const { event } of listed) deps.caches.events.remember(eventGlobalId(event), event);
  const edges: EventEdgeModel[] = listed.map(({ event, cursor }) => ({ node: event, cursor: once(cursor) }));
  // Taken before a backward page is reversed: the traversal resumes after its last edge read.
  const lastRead = edges[edges.length - 1];
  const resumeCursor = once(() => (parts.resumeCursor ? parts.resumeCursor() : lastRead?.cursor() ?? null));

  if (paging.mode === 'backward') edges.reverse();
  const firstEdge = edges[0];
  const lastEdge = edges[edges.length - 1];
  const forward = paging.mode === 'forward';
  // Cursors are signed (and deflated): encode only those the query asks for.
  const startCursor = once(() => (!forward && moreInTraversal ? resumeCursor() : firstEdge?.cursor() ?? null));
  const tailCursor = parts.tailCursor ?? null;
  const endCursor = once(() => (forward && moreInTraversal ? resumeCursor() : tailCursor ? tailCursor() : lastEdge?.cursor() ?? null));
  const pageInfo: PageInfoModel = {
    hasNextPage: forward ? moreInTraversal : paging.cursor !== null,
    hasPreviousPage: forward ? paging.cursor !== null : moreInTraversal,
    get startCursor() {
      return startCursor();
    },
    get endCursor() {
      return endCursor();
    },
  };

  const failures = streams.flatMap((stream) => (stream.failure ? [stream.failure] : []));
  const warnings: ConnectionWarning[] = [];
  const retainedFrom = (sourceId: string): Date | null => {
    const horizon = retentionHorizon(parts.retentionDays.get(sourceId) ?? null, selection.queries.get(sourceId)!.fromMs, asOfMs);
    if (horizon === null) return null;
    const at = new Date(horizon);
    warnings.push({
      code: 'SOURCE_RETENTION_EXCEEDED',
      message: `source '${sourceId}' keeps events only since ${at.toISOString()}: the window starts earlier, and older events cannot be listed`,
      source: sourceId,
      retainedFrom: at.toISOString(),
    });
    return at;
  };
  for (const { sourceId, fields } of selection.notApplicable) {
    warnings.push({
      code: 'FILTER_NOT_APPLICABLE',
      message: `source '${sourceId}' records nothing that ${fields.join(', ')} can match, so none of its events match this filter; it was not read`,
      source: sourceId,
      fields,
    });
  }
  for (const stream of streams) {
    if (stream.unusableRecords === 0) continue;
    warnings.push({
      code: 'UNUSABLE_RECORDS',
      message: `source '${stream.sourceId}' sent ${stream.unusableRecords} record(s) without a usable time or identity; they were left out of this page (the server log has their ids)`,
      source: stream.sourceId,
      count: stream.unusableRecords,
    });
  }
  const idle = (sourceId: string, status: SourcePageState): SourcePageStatusModel => ({
    sourceId,
    status,
    errorCode: null,
    upstreamRequests: 0,
    unusableRecords: 0,
    retainedFrom: null,
  });
  const sourceStatuses: SourcePageStatusModel[] = [
    ...streams.map((stream): SourcePageStatusModel => ({
      sourceId: stream.sourceId,
      status: stream.failure ? 'FAILED' : stream.isExhausted ? 'EXHAUSTED' : 'OK',
      errorCode: stream.failure?.code ?? null,
      upstreamRequests: stream.requests,
      unusableRecords: stream.unusableRecords,
      retainedFrom: retainedFrom(stream.sourceId),
    })),
    ...selection.skippedSourceIds.map((sourceId) => idle(sourceId, 'SKIPPED')),
    ...selection.notApplicable.map(({ sourceId }) => idle(sourceId, 'NOT_APPLICABLE')),
  ].sort((a, b) => (a.sourceId < b.sourceId ? -1 : 1));

  const totalCount = async (): Promise<number | null> => {
    let total = 0;
    for (const sourceId of selection.sourceIds) {
      const dataSource = deps.sources.get(sourceId)!.dataSource;
      if (!dataSource.capabilities.countsTotal || !dataSource.countEvents) return null;
      const query = selection.queries.get(sourceId)!;
      const countEvents = dataSource.countEvents.bind(dataSource);
      // Counted once per traversal (keyed by its snapshot), not once per page.
      const { result } = await deps.caches.counts.getOrFetch(cacheKey(sourceId, JSON.stringify(query), String(asOfMs)), async () => ({
        count: await countEvents(query, deps.signal),
      }));
      if (result.count === null) return null;
      total += result.count;
    }
    return total;
  };

  const allSourcesFailed = failures.length > 0 && failures.length === streams.length && listed.length === 0;
  return { edges, pageInfo, asOf: new Date(asOfMs), sourceStatuses, totalCount, errors: failures, warnings, allSourcesFailed };
}

/**
 * Days each selected source keeps events, asked only where the filter's window has a start: a
 * window without one asks for whatever exists, which retention cannot cut short.
 */
export async function retentionOf(selection: EventSelection, deps: EventConnectionDeps): Promise<Map<string, number | null>> {
  const entries = await Promise.all(
    selection.sourceIds.map(async (sourceId): Promise<[string, number | null]> => {
      if (selection.queries.get(sourceId)!.fromMs === null) return [sourceId, null];
      return [sourceId, await retentionDaysOf(deps.sources.get(sourceId)!.dataSource, deps.signal)];
    }),
  );
  return new Map(entries);
}

/**
 * The oldest instant (ms) a source with `retentionDays` still keeps at the snapshot `asOfMs`, when
 * a window starting at `fromMs` reaches before it; null otherwise. A window without a start asks
 * for whatever exists, which retention does not cut short.
 */
export function retentionHorizon(retentionDays: number | null, fromMs: number | null, asOfMs: number): number | null {
  if (retentionDays === null || fromMs === null) return null;
  const horizon = asOfMs - retentionDays * 86_400_000;
  return fromMs < horizon ? horizon : null;
}

/**
 * The query a source is given for this page: the filter's window cut to the snapshot, and, when
 * seeking, to the cursor's position (inclusive: events sharing its time are skipped by key).
 */
export function boundQuery(query: SourceQuery, asOfMs: number, origin: EventKey | null, traversal: Direction): SourceQuery {
  let { fromMs, toMs } = query;
  toMs = toMs === null ? asOfMs + 1 : Math.min(toMs, asOfMs + 1);
  if (origin) {
    if (traversal === 'DESC') toMs = Math.min(toMs, origin[0] + 1);
    else fromMs = fromMs === null ? origin[0] : Math.max(fromMs, origin[0]);
  }
  return { ...query, fromMs, toMs };
}

/** The global id of an event, encoded once per event object (listed events are shown and remembered). */
export function eventGlobalId(event: AuditEventModel): string {
  return (event.globalId ??= encodeGlobalId({
    type: 'AuditEvent',
    sourceId: event.sourceId,
    occurredAtMs: event.occurredAtMs,
    sourceEventId: event.sourceEventId,
  }));
}

/** `compute`, called at most once. */
function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}
