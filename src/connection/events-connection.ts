import { cacheKey } from '../cache/cache';
import type { BatchCache, GatewayCaches } from '../connection/caches';
import { retentionDaysOf, type Direction, type SourceQuery } from '../sources/data-source';
import type { SourceRegistry } from '../sources/registry';
import type { CursorCodec, SourceCursorState, TraversalResume } from './cursor';
import { selectEvents, type EventFilterInput, type EventSelection } from './filter';
import { eventGlobalId } from './global-id';
import { mergePage } from './merge';
import { keyOf, type EventKey } from './order';
import { parsePaging, type PagingArgs } from './paging-args';
import { planTraversal, type TraversalPlan } from './plan';
import { SourceStream } from './source-stream';
import { toConnection, type ConnectionPage, type SourceOutcome } from './to-connection';

export type { ConnectionWarning, EventEdgeModel, PageInfoModel, SourcePageState, SourcePageStatusModel } from './to-connection';

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
  /**
   * Where streams keep their batches instead of `caches.batches`: for traversals whose batches
   * may hold only part of a source's events (a search's native hits), which must never be served
   * to a traversal of the same filter that needs them all.
   */
  batches?: BatchCache;
  /** Whom cursors are signed for (the caller's principal id): a cursor of another scope is refused. */
  cursorScope: string;
  /** Upstream requests one source may make for one page. */
  scanBudgetRequests: number;
  /**
   * When (epoch ms) the request's time for reading on runs out: after it, a source that has made
   * an upstream request for this page makes no more, and the page ends short with a cursor that
   * resumes the scan, as when `scanBudgetRequests` is spent. Absent: no time limit.
   */
  scanUntilMs?: number;
  /**
   * Whether a page that continues a traversal reads the sources' next batches ahead (see
   * `SourceStream.readAhead`). The server answers no while its CPU has no time to spare: read
   * ahead for a client that stops paging is work thrown away, and under load it is taken from
   * admitted requests. Absent: always.
   */
  readAhead?: () => boolean;
  /** See `ServerConfig.settleWindowMs`; required, so that no path to the engine forgets it. */
  settleWindowMs: number;
  signal: AbortSignal;
  now?: () => number;
}

/** What a connection over a narrower set of events than its filter's adds to the engine. */
export interface EventConnectionOptions {
  /**
   * Narrows the filter's selection, e.g. to the events a search matches: the returned selection's
   * `matches` is applied to every event, and its `fingerprint` must tell it apart from the plain
   * filter's, so that a cursor of one is refused by the other.
   */
  refine?: (selection: EventSelection) => EventSelection;
}

/** The connection resolvers turn into `AuditEventConnection`. */
export interface EventConnectionModel extends ConnectionPage {
  /** Exact total over the selected sources, or null when one of them cannot count for this filter. */
  totalCount: () => Promise<number | null>;
}

/**
 * One page of audit events merged across sources. The steps, of which only the reading and the
 * remembering touch anything outside: validate the arguments and filter, decode the cursor, plan
 * the page ({@link planTraversal}), read the sources and merge them ({@link mergePage}), build the
 * connection ({@link toConnection}), remember the listed events for refetching by id.
 */
export async function loadEventConnection(args: EventConnectionArgs, deps: EventConnectionDeps, options: EventConnectionOptions = {}): Promise<EventConnectionModel> {
  const paging = parsePaging(args);
  const order: Direction = args.orderBy?.direction ?? 'DESC';
  const filtered = selectEvents(args.filter, deps.sources.filterable, order);
  const selection = options.refine ? options.refine(filtered) : filtered;
  const nowMs = deps.now?.() ?? Date.now();
  const cursor = paging.cursor === null ? null : deps.cursors.decode(paging.cursor, paging.cursorArgument, nowMs, deps.cursorScope);
  const plan = planTraversal({ paging, order, selection, cursor, nowMs, settleWindowMs: deps.settleWindowMs });

  const streams = openStreams(selection, plan, deps);
  const [merged, retentionDays] = await Promise.all([
    mergePage(streams, { limit: paging.count + 1, fetchSize: paging.count + 1, baseStates: plan.baseStates }),
    retentionOf(selection, deps),
  ]);
  if (cursor !== null && (deps.readAhead?.() ?? true)) for (const stream of streams) stream.readAhead(paging.count + 1);

  const sources = outcomesOf(streams);
  const hasMore = merged.edges.length > paging.count;
  const listed = merged.edges.slice(0, paging.count);
  const resumeWith = (states: Record<string, SourceCursorState>): TraversalResume => ({ kind: 'sources', states, origin: plan.origin });
  // A full page resumes after its last edge (the look-ahead event was read, not listed). A page
  // that stopped short resumes from the scan position, which may lie past its last edge.
  const stoppedShort = !hasMore && (merged.budgetSpent || sources.some((source) => source.failure !== null));
  const lastKey = listed.length > 0 ? keyOf(listed[listed.length - 1]!.event) : plan.position;
  const connection = toConnection(
    plan,
    selection,
    {
      listed: listed.map((edge) => ({ event: edge.event, resume: () => resumeWith(edge.states()) })),
      moreInTraversal: hasMore || stoppedShort,
      stoppedAt: stoppedShort ? { position: lastKey, resume: () => resumeWith(merged.finalStates) } : null,
      // The last page of an oldest-first traversal ends in a tail cursor, even when it lists
      // nothing, so that a client can follow the log as it grows (as Asana's event stream is read).
      tailFrom: paging.mode === 'forward' && plan.traversal === 'ASC' && !hasMore && !stoppedShort ? { position: lastKey } : null,
      sources,
      retentionDays,
    },
    (traversalCursor) => deps.cursors.encode(traversalCursor, deps.cursorScope),
  );
  rememberListed(connection, deps);
  return { ...connection, totalCount: totalCountOf(selection, plan.asOfMs, deps) };
}

/**
 * One stream per selected source, resumed from the plan's states; with an origin, every source
 * reads only what lies beyond it in the traversal.
 */
export function openStreams(selection: EventSelection, plan: Pick<TraversalPlan, 'traversal' | 'asOfMs' | 'origin' | 'baseStates'>, deps: EventConnectionDeps): SourceStream[] {
  const { traversal, asOfMs, origin, baseStates } = plan;
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
      ...(deps.scanUntilMs === undefined ? {} : { scanUntilMs: deps.scanUntilMs }),
      alone: selection.sourceIds.length === 1,
      sources: selection.sourceIds.length,
      cache: deps.batches ?? deps.caches.batches,
      signal: deps.signal,
    });
  });
}

/** How each stream came out of its page. */
export function outcomesOf(streams: readonly SourceStream[]): SourceOutcome[] {
  return streams.map((stream) => ({
    sourceId: stream.sourceId,
    failure: stream.failure,
    upstreamRequests: stream.requests,
    unusableRecords: stream.unusableRecords,
    exhausted: stream.isExhausted,
  }));
}

/** Remembered for refetching by id; fire and forget, the page does not wait for the cache. */
export function rememberListed(connection: ConnectionPage, deps: EventConnectionDeps): void {
  for (const edge of connection.edges) deps.caches.events.remember(eventGlobalId(edge.node), edge.node);
}

/**
 * The exact total over the selected sources, computed when asked for, once per traversal (keyed
 * by its snapshot), not once per page; null when one source cannot count for this filter, or
 * when the filter asks what no vendor is asked (`EventSelection.gatewayOnly`).
 */
export function totalCountOf(selection: EventSelection, asOfMs: number, deps: EventConnectionDeps): () => Promise<number | null> {
  return async () => {
    if (selection.gatewayOnly) return null;
    let total = 0;
    for (const sourceId of selection.sourceIds) {
      const dataSource = deps.sources.get(sourceId)!.dataSource;
      if (!dataSource.capabilities.countsTotal || !dataSource.countEvents) return null;
      const query = selection.queries.get(sourceId)!;
      const countEvents = dataSource.countEvents.bind(dataSource);
      const { result } = await deps.caches.counts.getOrFetch(cacheKey(sourceId, JSON.stringify(query), String(asOfMs)), async () => ({
        count: await countEvents(query, deps.signal),
      }));
      if (result.count === null) return null;
      total += result.count;
    }
    return total;
  };
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
 * The query a source is given for this page: the filter's window cut to the snapshot, and, for a
 * traversal with an origin, to it (inclusive: events sharing its time are skipped by key).
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

