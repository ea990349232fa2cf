import type { z } from 'zod';
import type { Logger } from '../logger';
import type { AuditEventModel, Vendor } from '../models/audit-event';
import type { SyntheticDataset } from '../simulation/dataset';
import type { SimulatorControl } from '../simulation/server';
import type { UpstreamClientOptions } from '../http/upstream-client';
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
  maxConnections: number;
  maxResponseBytes: number;
}

/** What a datasource factory gets besides its config. */
export interface DataSourceDeps {
  logger: Logger;
  /** Where the datasource's HTTP client records each call's outcome. */
  health: SourceHealthTracker;
}

/** A vendor simulator running on loopback. */
export interface RunningSimulator {
  /** Base URL to put in a source's `baseUrl`. */
  baseUrl: string;
  /** The vendor-specific config keys (credentials) that the simulator accepts. */
  credentials: Record<string, string>;
  /** Faults, latency, rate limits and request counters. */
  control: SimulatorControl;
  /** The generated events; `append` adds new activity. */
  dataset: SyntheticDataset;
  /** Every event as the vendor's datasource must normalise it, oldest first: the ground truth of tests. */
  expectedEvents(sourceId: string): AuditEventModel[];
  stop(): Promise<void>;
}

/** Options every simulator takes; vendors add their own knobs. */
export interface SimulatorStartOptions {
  /** Events in the generated data set. */
  size: number;
  /** Seed of the deterministic data set. */
  seed: number;
  /** Time of the newest event, ms; default now. Tests pin it so that data sets are reproducible. */
  endMs?: number;
  /** Host to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
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
  /** Starts the vendor's simulator (demo mode, tests, benchmarks). */
  startSimulator(options: SimulatorStartOptions): Promise<RunningSimulator>;
}
