import { evidenceExportGlobalId } from '../src/graphql/compliance';
import type { EvidenceExportResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

const at = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export const EvidenceExport: EvidenceExportResolvers = {
  id: (job) => evidenceExportGlobalId(job),
  source: (job, _args, context) => sourceOf(job.sourceId, context),
  estimatedCompletion: (job) => at(job.estimatedCompletionMs),
  expiresAt: (job) => at(job.expiresAtMs),
  createdAt: (job) => at(job.createdAtMs),
  completedAt: (job) => at(job.completedAtMs),
};
