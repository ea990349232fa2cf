import { integrityIntact } from '../src/graphql/compliance';
import type { IntegrityVerificationResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const IntegrityVerification: IntegrityVerificationResolvers = {
  source: (check, _args, context) => sourceOf(check.sourceId, context),
  from: (check) => (check.window.fromMs === null ? null : new Date(check.window.fromMs)),
  to: (check) => (check.window.toMs === null ? null : new Date(check.window.toMs)),
  repositoryId: (check) => check.window.repositoryId,
  vendorVerdict: (check) => check.vendorVerdict(),
  rewalk: (check) => check.rewalk(),
  intact: (check) => integrityIntact(check),
};
