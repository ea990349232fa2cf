import { randomBytes } from 'node:crypto';
import { defaultServerConfig, sourceConfig, type GatewayConfig } from './config';
import type { RunningSimulator } from './simulation/vendor-simulator';
import { vendorModules } from './vendors';
import { startVendorSimulator } from './vendors/simulators';

/** Options for {@link startDemoSources}. */
export interface DemoOptions {
  /** Events per simulated source; default 5,000. */
  size?: number;
  seed?: number;
  port?: number;
  host?: string;
}

/** The simulators of demo mode and the config that points the gateway at them. */
export interface DemoSetup {
  config: GatewayConfig;
  simulators: RunningSimulator[];
  stop(): Promise<void>;
}

/**
 * Demo mode: every vendor's simulator on a free loopback port and a config over them, with a
 * random cursor secret (cursors do not outlive the process, which is fine for a demo).
 */
export async function startDemoSources(options: DemoOptions = {}): Promise<DemoSetup> {
  const modules = Object.values(vendorModules).filter((module) => module !== undefined);
  const simulators: RunningSimulator[] = [];
  const sources = [];
  for (const [index, module] of modules.entries()) {
    const simulator = await startVendorSimulator(module.vendor, { size: options.size ?? 5000, seed: (options.seed ?? 2026) + index });
    simulators.push(simulator);
    sources.push(
      sourceConfig({
        id: `${module.vendor}-demo`,
        vendor: module.vendor,
        name: `${module.displayName} (simulated)`,
        baseUrl: simulator.baseUrl,
        allowPrivateNetwork: true,
        ...simulator.credentials,
      }),
    );
  }
  const server = defaultServerConfig({ cursorSecret: randomBytes(32).toString('base64url') });
  if (options.port !== undefined) server.port = options.port;
  if (options.host !== undefined) server.host = options.host;
  return {
    config: { server, sources, demo: true },
    simulators,
    stop: async () => {
      await Promise.all(simulators.map((simulator) => simulator.stop()));
    },
  };
}
