import type { AuditSearchConnectionResolvers } from '../src/generated/graphql';

export const AuditSearchConnection: AuditSearchConnectionResolvers = {
  edges: (connection) => connection.edges,
  nodes: (connection) => connection.edges.map((edge) => edge.node),
  pageInfo: (connection) => connection.pageInfo,
  asOf: (connection) => connection.asOf,
  sourceStatuses: (connection) => connection.sourceStatuses,
};
