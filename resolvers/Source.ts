import { encodeGlobalId } from '../src/federation/global-id';
import type { SourceResolvers, Vendor } from '../src/generated/graphql';

export const Source: SourceResolvers = {
  id: (source) => encodeGlobalId({ type: 'Source', sourceId: source.config.id }),
  sourceId: (source) => source.config.id,
  vendor: (source) => source.config.vendor.toUpperCase() as Vendor,
  name: (source) => source.dataSource.displayName,
  capabilities: (source) => source.dataSource.capabilities,
  health: (source) => source.health.snapshot(),
};
