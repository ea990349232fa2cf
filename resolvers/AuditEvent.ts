import { eventGlobalId } from '../src/connection/global-id';
import type { AuditEventResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const AuditEvent: AuditEventResolvers = {
  id: (event) => eventGlobalId(event),
  source: (event, _args, context) => sourceOf(event.sourceId, context),
  occurredAt: (event) => new Date(event.occurredAtMs),
};
