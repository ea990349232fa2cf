import type { AuditSearchEdgeResolvers } from '../src/generated/graphql';

export const AuditSearchEdge: AuditSearchEdgeResolvers = {
  cursor: (edge) => edge.cursor(),
  node: (edge) => edge.node,
};
