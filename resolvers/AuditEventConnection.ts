import type { AuditEventConnectionResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const AuditEventConnection: AuditEventConnectionResolvers = {
  edges: (connection) => connection.edges,
  nodes: (connection) => connection.edges.map((edge) => edge.node),
  pageInfo: (connection) => connection.pageInfo,
  totalCount: (connection) => connection.totalCount(),
  asOf: (connection) => connection.asOf,
  sourceStatuses: (connection, _args, context) =>
    connection.sourceStatuses.map((status) => ({ ...status, source: sourceOf(status.sourceId, context) })),
};
