import { connectionDeps, type GatewayContext } from '../context';
import { loadEventConnection, type EventConnectionArgs, type EventConnectionModel } from '../connection/events-connection';
import type { NestedConnectionRequest } from '../connection/nested-connections';

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
