import type { SourcePageStatusResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const SourcePageStatus: SourcePageStatusResolvers = {
  source: (status, _args, context) => sourceOf(status.sourceId, context),
  // The source's breaker as this field resolves, just after the page was read: the engine that
  // builds the statuses knows nothing of HTTP, and the breaker lives in the source's client.
  circuit: (status, _args, context) => sourceOf(status.sourceId, context).health.snapshot().circuit,
};
