import { createHash } from 'node:crypto';
import { cacheKey } from '../cache/cache';
import type { BatchCache } from '../connection/caches';
import { boundQuery, loadEventConnection, type EventConnectionDeps } from '../connection/events-connection';
import type { EventFilterInput, EventSelection } from '../connection/filter';
import type { ConnectionPage, PageInfoModel, SourcePageStatusModel } from '../connection/to-connection';
import type { AuditEventModel } from '../models/audit-event';
import { SourceRegistry } from '../sources/registry';
import { explainHit, searchMatcher, type HitExplanation } from './matcher';
import type { SearchCaches } from './caches';
import { NativeSearchSource, type SearchMethod } from './native-search-source';
import { parseSearchQuery, type SearchQuery } from './query-parser';

/** Arguments of `searchAuditEvents`. */
export interface SearchConnectionArgs {
  query: string;
  first?: number | null;
  after?: string | null;
  filter?: EventFilterInput | null;
}

/** What a search needs beyond what a connection needs: its own caches. */
export type SearchConnectionDeps = EventConnectionDeps & SearchCaches;

/** One hit: the event, and where and how it matched (worked out when asked for). */
export interface SearchHitModel {
  event: AuditEventModel;
  explanation: () => HitExplanation;
}

export interface SearchEdgeModel {
  cursor: () => string;
  node: SearchHitModel;
}

export interface SearchSourceStatusModel extends SourcePageStatusModel {
  /** Null for a source that was not read. */
  method: SearchMethod | null;
}

export interface SearchConnectionModel extends Pick<ConnectionPage, 'asOf' | 'errors' | 'warnings' | 'allSourcesFailed'> {
  edges: SearchEdgeModel[];
  pageInfo: PageInfoModel;
  sourceStatuses: SearchSourceStatusModel[];
}

/**
 * One page of a search: a connection of the events that match the query (and the filter), newest
 * first, built by the connection engine itself with the query as part of the selection's test,
 * so that paging, merging, cursors, budgets and failures behave exactly as in `auditEvents`.
 * Sources whose vendor searches are read through {@link NativeSearchSource}; the rest are
 * matched by the gateway as they are read.
 */
export async function loadSearchConnection(args: SearchConnectionArgs, deps: SearchConnectionDeps): Promise<SearchConnectionModel> {
  const query = parseSearchQuery(args.query);
  const matches = searchMatcher(query);
  const natives = new Map<string, NativeSearchSource>();
  const sources = new SourceRegistry(
    deps.sources.all.map((source) => {
      const search = source.dataSource.nativeSearch;
      if (!search?.candidates) return source;
      const native = new NativeSearchSource(source.dataSource, { ...search, candidates: search.candidates.bind(search) }, query.terms, deps.candidates);
      natives.set(source.config.id, native);
      return { ...source, dataSource: native };
    }),
  );
  // The filter's selection, as the engine made it: where each source's window lies.
  const refined: { selection?: EventSelection } = {};
  const refine = (selection: EventSelection): EventSelection => {
    refined.selection = selection;
    return {
      ...selection,
      matches: (event) => selection.matches(event) && matches(event),
      fingerprint: createHash('sha256').update(`${selection.fingerprint}\u0000search\u0000${query.canonical}`).digest('base64url').slice(0, 16),
    };
  };
  const batches: BatchCache = { getOrFetch: (key, fetch) => deps.searchBatches.getOrFetch(cacheKey(query.canonical, key), fetch) };
  const connection = await loadEventConnection(
    { first: args.first ?? null, after: args.after ?? null, filter: args.filter ?? null, orderBy: { direction: 'DESC' } },
    { ...deps, sources, batches },
    { refine },
  );
  const { selection } = refined;
  const sourceStatuses = await Promise.all(
    connection.sourceStatuses.map(async (status): Promise<SearchSourceStatusModel> => {
      const read = status.status !== 'SKIPPED' && status.status !== 'NOT_APPLICABLE';
      const native = natives.get(status.sourceId);
      let method: SearchMethod | null = read ? 'SCANNED' : null;
      if (read && native && selection) method = await native.methodFor(boundQuery(selection.queries.get(status.sourceId)!, connection.asOf.getTime(), null, 'DESC'));
      return { ...status, method };
    }),
  );
  return {
    edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: hitOf(query, edge.node) })),
    pageInfo: connection.pageInfo,
    asOf: connection.asOf,
    sourceStatuses,
    errors: connection.errors,
    warnings: connection.warnings,
    allSourcesFailed: connection.allSourcesFailed,
  };
}

function hitOf(query: SearchQuery, event: AuditEventModel): SearchHitModel {
  let explanation: HitExplanation | null = null;
  return { event, explanation: () => (explanation ??= explainHit(query, event)) };
}
