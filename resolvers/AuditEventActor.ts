import type { AuditEventActorResolvers } from '../src/generated/graphql';

/** The actor as one event recorded it; `node` is the shared entity, keyed by the same model. */
export const AuditEventActor: AuditEventActorResolvers = {
  node: (actor) => actor,
};
