import type { AuditSearchHitResolvers } from '../src/generated/graphql';

export const AuditSearchHit: AuditSearchHitResolvers = {
  event: (hit) => hit.event,
  matchedFields: (hit) => hit.explanation().matchedFields,
  snippet: (hit) => hit.explanation().snippet,
};
