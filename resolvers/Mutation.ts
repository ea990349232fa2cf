import { startEvidenceExport } from '../src/graphql/compliance';
import { cancelAuditExport, startAuditExport } from '../src/graphql/exports';
import type { MutationResolvers } from '../src/generated/graphql';

export const Mutation: MutationResolvers = {
  startEvidenceExport: (_parent, { input }, context) => startEvidenceExport(input, context),
  startAuditExport: (_parent, { input }, context) => startAuditExport(input, context),
  cancelAuditExport: (_parent, { id }, context) => cancelAuditExport(id, context),
};
