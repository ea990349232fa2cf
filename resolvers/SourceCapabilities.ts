import type { SourceCapabilitiesResolvers } from '../src/generated/graphql';

export const SourceCapabilities: SourceCapabilitiesResolvers = {
  nativeFilters: (capabilities) => [...capabilities.nativeFilters],
  recordedFields: (capabilities) => [...capabilities.recordedFields],
};
