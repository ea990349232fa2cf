import { responsePathAsArray } from 'graphql';
import { badUserInput, notImplemented } from '../src/errors';
import { MAX_IDS_PER_BATCH } from '../src/connection/event-loader';
import { decodeGlobalId } from '../src/connection/global-id';
import { resolveNode, resolveNodes } from '../src/graphql/node';
import { findEventBySourceId } from '../src/connection/lookup';
import { connectionDeps } from '../src/context';
import { resolveEventConnection } from '../src/graphql/resolve-connection';
import type { QueryResolvers } from '../src/generated/graphql';

export const Query: QueryResolvers = {
  node: (_parent, { id }, context) => resolveNode(id, context),
  nodes: (_parent, { ids }, context, info) => {
    if (ids.length < 1 || ids.length > MAX_IDS_PER_BATCH) {
      throw badUserInput(`ids must hold between 1 and ${MAX_IDS_PER_BATCH} ids (got ${ids.length})`, 'ARGUMENT_OUT_OF_RANGE', 'ids');
    }
    return resolveNodes(ids, context, responsePathAsArray(info.path));
  },
  sources: (_parent, _args, context) => context.sources.all,
  source: (_parent, { sourceId }, context) => context.sources.get(sourceId) ?? null,
  auditEvents: (_parent, args, context, info) => resolveEventConnection(args, context, responsePathAsArray(info.path)),
  auditEvent: async (_parent, { id }, context) => {
    const decoded = decodeGlobalId(id);
    return decoded.type === 'AuditEvent' ? context.loaders.event.load(id) : null;
  },
  auditEventBySourceId: (_parent, { source, sourceEventId }, context) => findEventBySourceId(source, sourceEventId, connectionDeps(context)),
  auditStatistics: () => {
    throw notImplemented('Query.auditStatistics');
  },
  evidenceExport: () => {
    throw notImplemented('Query.evidenceExport');
  },
  verifyIntegrity: () => {
    throw notImplemented('Query.verifyIntegrity');
  },
  complianceHistory: () => {
    throw notImplemented('Query.complianceHistory');
  },
  retentionPolicy: () => {
    throw notImplemented('Query.retentionPolicy');
  },
  soc2Evidence: () => {
    throw notImplemented('Query.soc2Evidence');
  },
  searchAuditEvents: () => {
    throw notImplemented('Query.searchAuditEvents');
  },
};
