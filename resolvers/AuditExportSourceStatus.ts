import type { AuditExportSourceStatusResolvers } from '../src/generated/graphql';

export const AuditExportSourceStatus: AuditExportSourceStatusResolvers = {
  // The caller's registry: a source no longer configured, or out of its scope, is null.
  source: (record, _args, context) => context.sources.get(record.sourceId) ?? null,
  retainedFrom: (record) => (record.retainedFrom === null ? null : new Date(record.retainedFrom)),
};
