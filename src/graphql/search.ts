import { connectionDeps, type GatewayContext } from '../context';
import type { GatewayCaches } from '../connection/caches';
import { createSearchCaches, type SearchCaches } from '../search/caches';
import { loadSearchConnection, type SearchConnectionArgs, type SearchConnectionModel } from '../search/search-connection';

/**
 * One set of search caches per gateway. A gateway's caches live exactly as long as the gateway,
 * so keying by them gives each its own without the composition root knowing of searches.
 */
const searchCaches = new WeakMap<GatewayCaches, SearchCaches>();

function cachesOf(context: GatewayContext): SearchCaches {
  let caches = searchCaches.get(context.caches);
  if (!caches) searchCaches.set(context.caches, (caches = createSearchCaches()));
  return caches;
}

/**
 * `Query.searchAuditEvents` at `path`: failures of single sources are reported next to the hits,
 * as for `auditEvents`; when every source failed and nothing can be shown, the field fails.
 */
export async function resolveSearchConnection(args: SearchConnectionArgs, context: GatewayContext, path: readonly (string | number)[]): Promise<SearchConnectionModel> {
  const connection = await loadSearchConnection(args, { ...connectionDeps(context), ...cachesOf(context) });
  for (const warning of connection.warnings) context.warnings.push({ ...warning, path });
  const [first, ...others] = connection.errors;
  if (connection.allSourcesFailed && first) {
    for (const error of others) context.partialErrors.push({ error, path });
    throw first;
  }
  for (const error of connection.errors) context.partialErrors.push({ error, path });
  return connection;
}
