import type { VendorIntegrityVerdictResolvers } from '../src/generated/graphql';

export const VendorIntegrityVerdict: VendorIntegrityVerdictResolvers = {
  verifiedAt: (verdict) => (verdict.verifiedAtMs === null ? null : new Date(verdict.verifiedAtMs)),
};
