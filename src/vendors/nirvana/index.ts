import { z } from 'zod';
import type { VendorModule } from '../../sources/vendor-module';
import { NirvanaDataSource, type NirvanaCredentials } from './datasource';

/** Nirvana Labs: `apiKey` (sent as a Bearer token). */
export const nirvanaModule: VendorModule<NirvanaCredentials> = {
  vendor: 'nirvana',
  displayName: 'Nirvana Labs',
  credentialsSchema: z.strictObject({ apiKey: z.string().min(1) }),
  allowedHostSuffixes: ['nirvanalabs.io'],
  secretsOf: (credentials) => [credentials.apiKey],
  createDataSource: (config, deps) => new NirvanaDataSource(config, deps),
};
