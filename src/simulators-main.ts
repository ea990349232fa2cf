import { stringify } from 'yaml';
import type { RunningSimulator } from './simulation/vendor-simulator';
import { vendorModules } from './vendors';
import { startVendorSimulator } from './vendors/simulators';

/**
 * `npm run simulators`: starts every vendor's simulator on loopback and prints a gateway config
 * that points at them (save it, then `npm start -- --config FILE`). Knobs: SIM_SIZE (events per
 * source, default 10,000), SIM_SEED, SIM_BASE_PORT (consecutive ports; default free ones).
 */
async function main(): Promise<void> {
  const size = Number(process.env['SIM_SIZE'] ?? 10_000);
  const seed = Number(process.env['SIM_SEED'] ?? 2026);
  const basePort = process.env['SIM_BASE_PORT'] ? Number(process.env['SIM_BASE_PORT']) : undefined;
  const running: RunningSimulator[] = [];
  const sources: Record<string, unknown>[] = [];
  for (const [index, module] of Object.values(vendorModules).entries()) {
    if (!module) continue;
    const simulator = await startVendorSimulator(module.vendor, { size, seed: seed + index, ...(basePort !== undefined ? { port: basePort + index } : {}) });
    running.push(simulator);
    sources.push({ id: `${module.vendor}-sim`, vendor: module.vendor, baseUrl: simulator.baseUrl, allowPrivateNetwork: true, ...simulator.credentials });
  }
  const config = {
    server: { port: 4000, cursorSecret: 'simulators-only-cursor-secret-change-me-0123456789' },
    sources,
  };
  process.stdout.write(`# Audit Gateway config for the simulators started by \`npm run simulators\` (${size} events each).\n`);
  process.stdout.write(`# Simulated credentials only. Stop with Ctrl-C.\n${stringify(config)}`);
  const stop = async () => {
    await Promise.all(running.map((simulator) => simulator.stop()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
