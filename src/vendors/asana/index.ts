import { z } from 'zod';
import type { VendorModule } from '../../sources/vendor-module';
import { AsanaDataSource, type AsanaCredentials } from './datasource';

/**
 * Asana (Audit Log API): `token`, a service account token sent as a Bearer token, and
 * `workspaceGid`, the organization's numeric gid. `baseUrl` includes the API's base path, e.g.
 * `https://app.asana.com/api/1.0`.
 */
export const asanaModule: VendorModule<AsanaCredentials> = {
  vendor: 'asana',
  displayName: 'Asana',
  credentialsSchema: z.strictObject({
    token: z.string().min(1),
    workspaceGid: z.string().regex(/^\d{1,32}$/, 'the numeric gid of the organization'),
  }),
  allowedHostSuffixes: ['asana.com'],
  secretsOf: (credentials) => [credentials.token],
  createDataSource: (config, deps) => new AsanaDataSource(config, deps),
};
