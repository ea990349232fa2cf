import { encodeGlobalId } from '../src/connection/global-id';
import { retentionDaysOf } from '../src/sources/data-source';
import type { SourceResolvers, Vendor } from '../src/generated/graphql';

export const Source: SourceResolvers = {
  id: (source) => encodeGlobalId({ type: 'Source', sourceId: source.config.id }),
  sourceId: (source) => source.config.id,
  vendor: (source) => source.config.vendor.toUpperCase() as Vendor,
  name: (source) => source.dataSource.displayName,
  // Retention as the vendor reports it now, where it does (ComplianceAgent's own policy).
  capabilities: async (source, _args, context) => ({
    ...source.dataSource.capabilities,
    retentionDays: await retentionDaysOf(source.dataSource, context.signal),
  }),
  health: (source) => source.health.snapshot(),
};
