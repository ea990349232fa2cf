import { encodeGlobalId } from '../src/connection/global-id';
import { offeredOperations, retentionDaysOf } from '../src/sources/data-source';
import type { SourceResolvers, Vendor } from '../src/generated/graphql';

export const Source: SourceResolvers = {
  id: (source) => encodeGlobalId({ type: 'Source', sourceId: source.config.id }),
  sourceId: (source) => source.config.id,
  vendor: (source) => source.config.vendor.toUpperCase() as Vendor,
  name: (source) => source.dataSource.displayName,
  // Retention as the vendor reports it now, where it does (ComplianceAgent's own policy); the
  // optional operations by whether the datasource has them, so nothing is asked upstream for them.
  capabilities: async (source, _args, context) => ({
    ...source.dataSource.capabilities,
    retentionDays: await retentionDaysOf(source.dataSource, context.signal),
    ...offeredOperations(source.dataSource),
  }),
  health: (source) => source.health.snapshot(),
};
