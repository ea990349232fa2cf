import type { ComplianceHistoryResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const ComplianceHistory: ComplianceHistoryResolvers = {
  source: (history, _args, context) => sourceOf(history.sourceId, context),
};
