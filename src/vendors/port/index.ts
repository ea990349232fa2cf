import { z } from 'zod';
import type { VendorModule } from '../../sources/vendor-module';
import { PortDataSource, type PortCredentials } from './datasource';

/**
 * Port (port.io): `clientId` + `clientSecret` of a Port API client, exchanged for a bearer token.
 * `baseUrl` is the API origin without `/v1`: `https://api.port.io` (EU), `https://api.us.port.io`
 * (US), or the legacy `api.getport.io` hosts.
 */
export const portModule: VendorModule<PortCredentials> = {
  vendor: 'port',
  displayName: 'Port',
  credentialsSchema: z.strictObject({ clientId: z.string().min(1), clientSecret: z.string().min(1) }),
  allowedHostSuffixes: ['port.io', 'getport.io'],
  secretsOf: (credentials) => [credentials.clientId, credentials.clientSecret],
  createDataSource: (config, deps) => new PortDataSource(config, deps),
};
