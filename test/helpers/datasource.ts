import { DEFAULT_TIMEOUTS, type UpstreamTimeouts } from '../../src/http/upstream-client';
import { createLogger } from '../../src/logger';
import type { AuditDataSource } from '../../src/sources/data-source';
import { SourceHealthTracker } from '../../src/sources/health';
import type { BaseSourceConfig, VendorModule } from '../../src/sources/vendor-module';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';

/** A datasource of `module` pointed at a running simulator (or a fixture server with credentials), with fast retries for tests. */
export function dataSourceFor(
  module: VendorModule<Record<string, unknown>>,
  simulator: Pick<RunningSimulator, 'baseUrl' | 'credentials'>,
  overrides: { id?: string; credentials?: Record<string, string>; timeouts?: Partial<UpstreamTimeouts> } = {},
): AuditDataSource {
  const config: BaseSourceConfig & Record<string, unknown> = {
    id: overrides.id ?? `${module.vendor}-test`,
    vendor: module.vendor,
    name: undefined,
    baseUrl: simulator.baseUrl,
    allowPrivateNetwork: true,
    timeouts: { ...DEFAULT_TIMEOUTS, ...overrides.timeouts },
    retry: { maxRetries: 2, minDelayMs: 10, maxDelayMs: 50 },
    maxConnections: 8,
    maxResponseBytes: 10 * 1024 * 1024,
    ...simulator.credentials,
    ...overrides.credentials,
  };
  return module.createDataSource(config, { logger: createLogger({ level: 'silent' }), health: new SourceHealthTracker() });
}
