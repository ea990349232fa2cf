import type { RetentionPolicyResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const RetentionPolicy: RetentionPolicyResolvers = {
  source: (policy, _args, context) => sourceOf(policy.sourceId, context),
  oldestLog: (policy) => (policy.oldestLogMs === null ? null : new Date(policy.oldestLogMs)),
};
