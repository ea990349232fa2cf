import type { RunningSimulator } from '../src/simulation/vendor-simulator';
import { startReplayUpstream, type ReplayUpstream } from './replay-upstream';
import { vendorModules } from '../src/vendors';
import { startVendorSimulator } from '../src/vendors/simulators';

/**
 * The simulators of the benchmark, in a process of their own so that the gateway's CPU time and
 * RSS are the gateway's alone. Driven over IPC by bench/serve.ts. Nirvana's simulator is reached
 * through a replay upstream (bench/replay-upstream.ts) that serves stored answers: the direct
 * baseline and the single-source runs then measure the gateway against an upstream that costs
 * almost nothing, not against the simulator's own work.
 */
async function main(): Promise<void> {
  const size = Number(process.env['BENCH_SIZE'] ?? 20_000);
  const simulators: Array<{ vendor: string; simulator: RunningSimulator }> = [];
  for (const [index, module] of Object.values(vendorModules).entries()) {
    if (!module) continue;
    simulators.push({ vendor: module.vendor, simulator: await startVendorSimulator(module.vendor, { size, seed: 100 + index, endMs: Date.now() - 1000 }) });
  }
  const replays = new Map<string, ReplayUpstream>();
  for (const { vendor, simulator } of simulators) {
    if (vendor === 'nirvana') replays.set(vendor, await startReplayUpstream(simulator.baseUrl));
  }
  process.on('message', (message: { type: string; latencyMs?: number }) => {
    if (message.type === 'latency') {
      for (const { vendor, simulator } of simulators) {
        const replay = replays.get(vendor);
        // Behind a replay the replay waits, once, for stored and forwarded answers alike.
        if (replay) replay.latencyMs = message.latencyMs ?? 0;
        else simulator.control.knobs.latencyMs = message.latencyMs ?? 0;
      }
      process.send?.({ type: 'latency-set' });
    }
    if (message.type === 'stats') {
      const requests = Object.fromEntries(simulators.map(({ vendor, simulator }) => [vendor, replays.get(vendor)?.stats.requests ?? simulator.control.stats.requests]));
      process.send?.({ type: 'stats', requests });
    }
  });
  const described = simulators.map(({ vendor, simulator }) => ({ vendor, baseUrl: replays.get(vendor)?.baseUrl ?? simulator.baseUrl, credentials: simulator.credentials }));
  process.send?.({ type: 'ready', size, simulators: described });
}

void main();
