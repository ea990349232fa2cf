import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPORT_DEFAULTS } from './export/settings';
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
 * random cursor secret (cursors do not outlive the process, which is fine for a demo), and
 * evidence exports into a temporary directory, signed by a key made for this process (printed by
 * `GET /exports/public-key`); both go when the demo stops.
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
  const exportsDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'audit-gateway-exports-'));
  const { privateKey } = generateKeyPairSync('ed25519');
  const server = defaultServerConfig({
    cursorSecret: randomBytes(32).toString('base64url'),
    exports: { ...EXPORT_DEFAULTS, dir: exportsDir, signingKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
  });
  if (options.port !== undefined) server.port = options.port;
  if (options.host !== undefined) server.host = options.host;
  return {
    config: { server, sources, demo: true },
    simulators,
    stop: async () => {
      await Promise.all(simulators.map((simulator) => simulator.stop()));
      await fs.promises.rm(exportsDir, { recursive: true, force: true });
    },
  };
}
