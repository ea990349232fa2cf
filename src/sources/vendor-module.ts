import type { z } from 'zod';
import type { Logger } from '../logger';
import type { Vendor } from '../models/audit-event';
import type { UpstreamClientOptions } from '../http/upstream-client';
import type { UpstreamObserver } from '../http/observation';
import type { SharedCircuitState } from '../http/shared-circuit';
import type { AuditDataSource } from './data-source';
import type { SourceHealthTracker } from './health';

/** Keys every source has, whatever its vendor (see `config.ts`). */
export interface BaseSourceConfig {
  id: string;
  vendor: Vendor;
  name: string | undefined;
  baseUrl: string;
  allowPrivateNetwork: boolean;
  timeouts: UpstreamClientOptions['timeouts'];
  retry: UpstreamClientOptions['retry'];
  /** Absent in configs built in code: the client's defaults apply. */
  circuitBreaker?: UpstreamClientOptions['circuitBreaker'];
  maxConnections: number;
  maxResponseBytes: number;
}

/** What a datasource factory gets besides its config. */
export interface DataSourceDeps {
  logger: Logger;
  /** Where the datasource's HTTP client records each call's outcome. */
  health: SourceHealthTracker;
  /** Told of every upstream call (the gateway's metrics and spans). */
  observer?: UpstreamObserver;
  /** Open circuits of the other replicas, when they share a Redis; see `SharedCircuitState`. */
  sharedCircuit?: SharedCircuitState;
}

/**
 * Everything the rest of the gateway knows about one vendor. Each vendor folder exports one;
 * `src/vendors/index.ts` lists them. Nothing outside a vendor folder names a vendor's fields.
 */
export interface VendorModule<Credentials extends Record<string, unknown>> {
  vendor: Vendor;
  displayName: string;
  /** zod schema of the vendor's own config keys (credentials and options). */
  credentialsSchema: z.ZodType<Credentials>;
  /** Host suffixes a production `baseUrl` must end with (SSRF allowlist). */
  allowedHostSuffixes: readonly string[];
  /** The credential values of a config, for redaction. */
  secretsOf(credentials: Credentials): string[];
  createDataSource(config: BaseSourceConfig & Credentials, deps: DataSourceDeps): AuditDataSource;
}
