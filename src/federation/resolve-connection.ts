import type { GatewayContext } from '../context';
import { loadEventConnection, type EventConnectionArgs, type EventConnectionModel } from './events-connection';

/**
 * Loads a connection for a resolver at `path`: failures of single sources are reported next to
 * the data; when every source failed and nothing can be shown, the field fails with the first
 * error and the others are reported too (one error per source).
 */
export async function resolveEventConnection(
  args: EventConnectionArgs,
  context: GatewayContext,
  path: readonly (string | number)[],
): Promise<EventConnectionModel> {
  const connection = await loadEventConnection(args, {
    sources: context.sources,
    cursors: context.cursors,
    caches: context.caches,
    scanBudgetRequests: context.config.scanBudgetRequests,
    signal: context.signal,
  });
  const [first, ...others] = connection.errors;
  if (connection.allSourcesFailed && first) {
    for (const error of others) context.partialErrors.push({ error, path });
    throw first;
  }
  for (const error of connection.errors) context.partialErrors.push({ error, path });
  return connection;
}
