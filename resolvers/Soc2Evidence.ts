import type { Soc2EvidenceResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const Soc2Evidence: Soc2EvidenceResolvers = {
  source: (evidence, _args, context) => sourceOf(evidence.sourceId, context),
};
