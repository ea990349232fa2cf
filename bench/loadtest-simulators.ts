import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RunningSimulator } from '../src/simulation/vendor-simulator';
import { vendorModules } from '../src/vendors';
import { startVendorSimulator } from '../src/vendors/simulators';

/**
 * The five vendor simulators of `npm run loadtest`, in a process of their own so that the
 * gateway's CPU time and RSS are the gateway's alone. Driven over IPC by bench/loadtest.ts:
 * `latency` sets the added latency of one vendor's simulator (or of all), `stats` answers the
 * upstream request counters and this process's event-loop delay since the last `stats` (how
 * late the simulators could answer: a busy host delays them too).
 */
export interface LoadtestSimulatorsReady {
  type: 'ready';
  size: number;
  simulators: Array<{ vendor: string; baseUrl: string; credentials: Record<string, string> }>;
}

export interface LatencyMessage {
  type: 'latency';
  /** One vendor's simulator; every simulator when absent. */
  vendor?: string;
  latencyMs: number;
  /** Also the share of its requests answered 503 (0 when absent). */
  errorRate?: number;
}

export interface LoadtestSimulatorStats {
  type: 'stats';
  /** Requests each vendor's simulator has answered so far. */
  requests: Record<string, number>;
  /** Event-loop delay of this process since the previous `stats`, ms. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

async function main(): Promise<void> {
  const size = Number(process.env['LOADTEST_SIZE'] ?? 20_000);
  const simulators: Array<{ vendor: string; simulator: RunningSimulator }> = [];
  for (const [index, module] of Object.values(vendorModules).entries()) {
    if (!module) continue;
    simulators.push({ vendor: module.vendor, simulator: await startVendorSimulator(module.vendor, { size, seed: 100 + index, endMs: Date.now() - 1000 }) });
  }
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('message', (message: { type: string; vendor?: string; latencyMs?: number; errorRate?: number }) => {
    if (message.type === 'latency') {
      for (const { vendor, simulator } of simulators) {
        if (message.vendor !== undefined && message.vendor !== vendor) continue;
        simulator.control.knobs.latencyMs = message.latencyMs ?? 0;
        simulator.control.knobs.errorRate = message.errorRate ?? 0;
      }
      process.send?.({ type: 'latency-set' });
    }
    if (message.type === 'stats') {
      const stats: LoadtestSimulatorStats = {
        type: 'stats',
        requests: Object.fromEntries(simulators.map(({ vendor, simulator }) => [vendor, simulator.control.stats.requests])),
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
        eventLoopDelayMaxMs: delay.max / 1e6,
      };
      delay.reset();
      process.send?.(stats);
    }
  });
  // The parent's end is this process's end: never outlive a load test that crashed.
  process.on('disconnect', () => process.exit(0));
  const ready: LoadtestSimulatorsReady = { type: 'ready', size, simulators: simulators.map(({ vendor, simulator }) => ({ vendor, baseUrl: simulator.baseUrl, credentials: simulator.credentials })) };
  process.send?.(ready);
}

void main();
