import { z } from 'zod';
import type { VendorModule } from '../../sources/vendor-module';
import { ComplianceAgentDataSource, type ComplianceAgentCredentials } from './datasource';

/**
 * ComplianceAgent: `apiKey` (sent as a Bearer token). `baseUrl` is the host, e.g.
 * `https://api.complianceagent.io`; the datasource adds `/api/v1/audit/...` itself and drops a
 * trailing `/api/v1` from `baseUrl`, so either form works.
 */
export const complianceAgentModule: VendorModule<ComplianceAgentCredentials> = {
  vendor: 'complianceagent',
  displayName: 'ComplianceAgent',
  credentialsSchema: z.strictObject({ apiKey: z.string().min(1) }),
  allowedHostSuffixes: ['complianceagent.io'],
  secretsOf: (credentials) => [credentials.apiKey],
  createDataSource: (config, deps) => new ComplianceAgentDataSource(config, deps),
};

export { ComplianceAgentDataSource, type ComplianceAgentCredentials } from './datasource';
