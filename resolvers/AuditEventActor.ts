import type { AuditEventActorReferenceResolvers, AuditEventActorResolvers } from '../src/generated/graphql';

/** The actor as one event recorded it; `node` is the shared entity, keyed by the same model. */
export const AuditEventActor: AuditEventActorResolvers = {
  organizationId: (actor) => actor.organizationId ?? null,
  application: (actor) => actor.application ?? null,
  automation: (actor) => actor.automation ?? null,
  onBehalfOf: (actor) => actor.onBehalfOf ?? null,
  node: (actor) => actor,
};

/** Another actor an event names; `node` is the shared entity it stands for. */
export const AuditEventActorReference: AuditEventActorReferenceResolvers = {
  sourceActorId: (actor) => actor.sourceActorId ?? '',
  node: (actor) => actor,
};
