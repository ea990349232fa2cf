import type { AuditEventEdgeResolvers } from '../src/generated/graphql';

export const AuditEventEdge: AuditEventEdgeResolvers = {
  cursor: (edge) => edge.cursor(),
  node: (edge) => edge.node,
};
