import type { GatewayContext } from '../context';
import { loadEventConnection, type EventConnectionArgs, type EventConnectionDeps, type EventConnectionModel } from './events-connection';
import type { NestedConnectionRequest } from './nested-connections';

/**
 * What the connection engine needs, from a request's context (or what the context is made of):
 * the one place that turns server settings into connection settings, for `auditEvents` and the
 * nested `Actor.events` / `Target.events` alike.
 */
export function connectionDeps(context: Pick<GatewayContext, 'sources' | 'cursors' | 'caches' | 'config' | 'signal'>): EventConnectionDeps {
  return {
    sources: context.sources,
    cursors: context.cursors,
    caches: context.caches,
    scanBudgetRequests: context.config.scanBudgetRequests,
    settleWindowMs: context.config.settleWindowMs,
    signal: context.signal,
  };
}

/** `Query.auditEvents` at `path`. */
export function resolveEventConnection(args: EventConnectionArgs, context: GatewayContext, path: readonly (string | number)[]): Promise<EventConnectionModel> {
  return reportPartialFailures(loadEventConnection(args, connectionDeps(context)), context, path);
}

/** `Actor.events` / `Target.events` at `path`, batched with the other owners of the request. */
export function resolveNestedConnection(request: NestedConnectionRequest, context: GatewayContext, path: readonly (string | number)[]): Promise<EventConnectionModel> {
  return reportPartialFailures(context.loaders.nestedEvents.load(request), context, path);
}

/**
 * Warnings (a window cut by a source's retention) go to `extensions.warnings`. Failures of
 * single sources are reported next to the data; when every source failed and
 * nothing can be shown, the field fails with the first error and the others are reported too
 * (one error per source).
 */
async function reportPartialFailures(
  loading: Promise<EventConnectionModel>,
  context: GatewayContext,
  path: readonly (string | number)[],
): Promise<EventConnectionModel> {
  const connection = await loading;
  for (const warning of connection.warnings) context.warnings.push({ ...warning, path });
  const [first, ...others] = connection.errors;
  if (connection.allSourcesFailed && first) {
    for (const error of others) context.partialErrors.push({ error, path });
    throw first;
  }
  for (const error of connection.errors) context.partialErrors.push({ error, path });
  return connection;
}
