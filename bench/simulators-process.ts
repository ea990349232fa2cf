import type { RunningSimulator } from '../src/simulation/vendor-simulator';
import { vendorModules } from '../src/vendors';
import { startVendorSimulator } from '../src/vendors/simulators';

/**
 * The simulators of the benchmark, in a process of their own so that the gateway's CPU time and
 * RSS are the gateway's alone. Driven over IPC by bench/serve.ts.
 */
async function main(): Promise<void> {
  const size = Number(process.env['BENCH_SIZE'] ?? 20_000);
  const simulators: Array<{ vendor: string; simulator: RunningSimulator }> = [];
  for (const [index, module] of Object.values(vendorModules).entries()) {
    if (!module) continue;
    simulators.push({ vendor: module.vendor, simulator: await startVendorSimulator(module.vendor, { size, seed: 100 + index, endMs: Date.now() - 1000 }) });
  }
  process.on('message', (message: { type: string; latencyMs?: number }) => {
    if (message.type === 'latency') {
      for (const { simulator } of simulators) simulator.control.knobs.latencyMs = message.latencyMs ?? 0;
      process.send?.({ type: 'latency-set' });
    }
    if (message.type === 'stats') {
      process.send?.({ type: 'stats', requests: Object.fromEntries(simulators.map(({ vendor, simulator }) => [vendor, simulator.control.stats.requests])) });
    }
  });
  process.send?.({ type: 'ready', size, simulators: simulators.map(({ vendor, simulator }) => ({ vendor, baseUrl: simulator.baseUrl, credentials: simulator.credentials })) });
}

void main();
