import type { NodeResolvers } from '../src/generated/graphql';

/** Tells the concrete type of a `Node` from the model behind it. */
export const Node: NodeResolvers = {
  __resolveType: (model) => {
    if ('raw' in model && 'sourceEventId' in model) return 'AuditEvent';
    if ('ownerId' in model && 'formats' in model) return 'AuditExport';
    if ('dataSource' in model) return 'Source';
    if ('sourceTargetId' in model) return 'Target';
    if ('sourceActorId' in model) return 'Actor';
    if ('jobId' in model && 'estimatedCompletionMs' in model) return 'EvidenceExport';
    return null;
  },
};
