import { z } from 'zod';
import type { VendorModule } from '../../sources/vendor-module';
import { AgilicusDataSource, type AgilicusCredentials } from './datasource';

/**
 * Agilicus: `token` (a ready access token from the customer's issuer, sent as Bearer) and an
 * optional `orgId` (sent as `org_id`). One source reads both audit and authentication records.
 */
export const agilicusModule: VendorModule<AgilicusCredentials> = {
  vendor: 'agilicus',
  displayName: 'Agilicus',
  credentialsSchema: z.strictObject({ token: z.string().min(1), orgId: z.string().min(1).optional() }),
  allowedHostSuffixes: ['agilicus.com', 'agilicus.cloud'],
  secretsOf: (credentials) => [credentials.token],
  createDataSource: (config, deps) => new AgilicusDataSource(config, deps),
};
