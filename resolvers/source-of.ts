import type { GatewayContext } from '../src/context';
import type { RegisteredSource } from '../src/sources/registry';

/** The registered source of an object; every object the gateway lists comes from one. */
export function sourceOf(sourceId: string, context: GatewayContext): RegisteredSource {
  const source = context.sources.get(sourceId);
  if (!source) throw new Error(`object of unconfigured source '${sourceId}'`);
  return source;
}
