import { responsePathAsArray } from 'graphql';
import { badUserInput } from '../src/errors';
import { MAX_IDS_PER_BATCH } from '../src/connection/event-loader';
import { decodeGlobalId } from '../src/connection/global-id';
import { resolveNode, resolveNodes } from '../src/graphql/node';
import { findEventBySourceId } from '../src/connection/lookup';
import { connectionDeps } from '../src/context';
import { resolveEventConnection } from '../src/graphql/resolve-connection';
import { complianceHistory, evidenceExport, retentionPolicy, soc2Evidence, verifyIntegrity } from '../src/graphql/compliance';
import { auditExport, exportPublicKey } from '../src/graphql/exports';
import { resolveSearchConnection } from '../src/graphql/search';
import { auditStatistics } from '../src/graphql/statistics';
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
  auditStatistics: (_parent, { filter }, context, info) => auditStatistics(filter, context, info),
  evidenceExport: (_parent, { source, jobId }, context) => evidenceExport(source, jobId, context),
  verifyIntegrity: (_parent, args, context) => verifyIntegrity(args, context),
  complianceHistory: (_parent, args, context) => complianceHistory(args, context),
  retentionPolicy: (_parent, { source }, context) => retentionPolicy(source, context),
  soc2Evidence: (_parent, args, context) => soc2Evidence(args, context),
  auditExport: (_parent, { id }, context) => auditExport(id, context),
  exportPublicKey: (_parent, _args, context) => exportPublicKey(context),
  searchAuditEvents: (_parent, args, context, info) => resolveSearchConnection(args, context, responsePathAsArray(info.path)),
};
