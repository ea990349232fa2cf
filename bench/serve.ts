import '../src/production-mode';
import { fork } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { siblingExecArgv, siblingScript } from './sibling';
import { defaultServerConfig, sourceConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createGateway } from '../src/server';
import { EXPORT_DEFAULTS } from '../src/export/settings';

interface SimulatorsReady {
  type: 'ready';
  size: number;
  simulators: Array<{ vendor: string; baseUrl: string; credentials: Record<string, string> }>;
}

/**
 * The process under measurement: the gateway alone, over simulators in a child process. Talks to
 * bench/run.ts over IPC: sends its URLs when ready, answers `rss` with its peak RSS, and relays
 * `latency` and `stats` to the simulators.
 */
async function main(): Promise<void> {
  const child = fork(siblingScript('simulators-process'), { execArgv: siblingExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<SimulatorsReady>((resolve) => child.once('message', (message: SimulatorsReady) => resolve(message)));
  const sources = ready.simulators.map((simulator) =>
    sourceConfig({ id: `${simulator.vendor}-bench`, vendor: simulator.vendor, baseUrl: simulator.baseUrl, allowPrivateNetwork: true, maxConnections: 32, ...simulator.credentials }),
  );
  // bench/export-bench.ts asks for evidence exports into a directory of its own.
  const exportDir = process.env['BENCH_EXPORT_DIR'];
  const exportSettings = exportDir
    ? { ...EXPORT_DEFAULTS, dir: exportDir, signingKeyPem: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
    : null;
  const gateway = await createGateway(
    { server: defaultServerConfig({ cursorSecret: randomBytes(32).toString('hex'), scanBudgetRequests: 50, exports: exportSettings }), sources, demo: false },
    { logger: createLogger({ level: 'error' }), port: 0 },
  );
  let peak = process.memoryUsage();
  setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  }, 50).unref();

  child.on('message', (message: { type: string }) => {
    if (message.type === 'latency-set' || message.type === 'stats') process.send?.(message);
  });
  process.on('message', (message: { type: string; latencyMs?: number }) => {
    if (message.type === 'rss') process.send?.({ type: 'rss', peakRss: peak.rss, currentRss: process.memoryUsage().rss, atPeak: peak, cpu: process.cpuUsage() });
    else child.send(message);
  });
  process.on('SIGTERM', () => {
    child.kill('SIGTERM');
    process.exit(0);
  });
  process.send?.({ type: 'ready', gatewayUrl: gateway.url, size: ready.size, simulators: ready.simulators });
}

void main();
