import type { AuditEventTargetResolvers } from '../src/generated/graphql';

/** The target as one event recorded it; `node` is the shared entity, keyed by the same model. */
export const AuditEventTarget: AuditEventTargetResolvers = {
  subtype: (target) => target.subtype ?? null,
  email: (target) => target.email ?? null,
  node: (target) => target,
};
