import { encodeExportId } from '../src/export/export-id';
import type { AuditExportResolvers } from '../src/generated/graphql';

const date = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

export const AuditExport: AuditExportResolvers = {
  id: (job) => encodeExportId(job.id),
  orderDirection: (job) => job.order,
  asOf: (job) => new Date(job.asOf),
  sourceStatuses: (job) => job.sources,
  createdAt: (job) => new Date(job.createdAt),
  completedAt: (job) => date(job.completedAt),
  expiresAt: (job) => date(job.expiresAt),
  downloadUrl: (job) => (job.status === 'COMPLETED' ? `/exports/${encodeExportId(job.id)}` : null),
};
