import { randomBytes } from 'node:crypto';
import { defaultServerConfig, sourceConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createGateway } from '../src/server';
import type { RunningSimulator } from '../src/sources/vendor-module';
import { vendorModules } from '../src/vendors';

/**
 * The process under measurement: every vendor simulator plus the gateway over them. Talks to
 * bench/run.ts over IPC: sends its URLs when ready, answers `rss` with its peak RSS, and applies
 * `latency` to every simulator.
 */
async function main(): Promise<void> {
  const size = Number(process.env['BENCH_SIZE'] ?? 20_000);
  const simulators: Array<{ vendor: string; simulator: RunningSimulator }> = [];
  const sources = [];
  for (const [index, module] of Object.values(vendorModules).entries()) {
    if (!module) continue;
    const simulator = await module.startSimulator({ size, seed: 100 + index });
    simulators.push({ vendor: module.vendor, simulator });
    sources.push(sourceConfig({ id: `${module.vendor}-bench`, vendor: module.vendor, baseUrl: simulator.baseUrl, allowPrivateNetwork: true, maxConnections: 32, ...simulator.credentials }));
  }
  const gateway = await createGateway(
    { server: defaultServerConfig({ cursorSecret: randomBytes(32).toString('hex'), scanBudgetRequests: 50 }), sources, demo: false },
    { logger: createLogger({ level: 'warn' }), port: 0 },
  );
  let peakRss = process.memoryUsage().rss;
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50).unref();

  process.on('message', (message: { type: string; latencyMs?: number }) => {
    if (message.type === 'rss') process.send?.({ type: 'rss', peakRss, rss: process.memoryUsage().rss });
    if (message.type === 'latency') {
      for (const { simulator } of simulators) simulator.control.knobs.latencyMs = message.latencyMs ?? 0;
      process.send?.({ type: 'latency-set' });
    }
    if (message.type === 'stats') {
      process.send?.({ type: 'stats', requests: Object.fromEntries(simulators.map(({ vendor, simulator }) => [vendor, simulator.control.stats.requests])) });
    }
  });
  process.send?.({
    type: 'ready',
    gatewayUrl: gateway.url,
    size,
    simulators: simulators.map(({ vendor, simulator }) => ({ vendor, baseUrl: simulator.baseUrl, credentials: simulator.credentials })),
  });
}

void main();
