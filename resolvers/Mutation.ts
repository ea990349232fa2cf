import { notImplemented } from '../src/errors';
import type { MutationResolvers } from '../src/generated/graphql';

export const Mutation: MutationResolvers = {
  startEvidenceExport: () => {
    throw notImplemented('Mutation.startEvidenceExport');
  },
};
