import type { AuditEventModel, Vendor } from '../models/audit-event';
import type { SyntheticDataset } from './dataset';
import type { SimulatorControl } from './server';

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
 * A vendor's simulator, registered apart from its datasource module (`src/vendors/simulators.ts`)
 * so that loading the config or serving real sources never loads a simulator.
 */
export interface VendorSimulator {
  vendor: Vendor;
  start(options: SimulatorStartOptions): Promise<RunningSimulator>;
}
