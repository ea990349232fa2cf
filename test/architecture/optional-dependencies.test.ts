import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DIST = path.resolve(__dirname, '../../dist/src');

/**
 * The compiled gateway (built by `npm test` before jest) over one simulator, with neither Redis,
 * tracing nor JWT configured, answering one query; prints the files it loaded.
 */
const SCRIPT = `
const { createGateway } = require(${JSON.stringify(`${DIST}/server.js`)});
const { defaultServerConfig, sourceConfig } = require(${JSON.stringify(`${DIST}/config.js`)});
const { createLogger } = require(${JSON.stringify(`${DIST}/logger.js`)});
const { startVendorSimulator } = require(${JSON.stringify(`${DIST}/vendors/simulators.js`)});
(async () => {
  const simulator = await startVendorSimulator('nirvana', { size: 20, seed: 3 });
  const source = sourceConfig({ id: 'nirvana-main', vendor: 'nirvana', baseUrl: simulator.baseUrl, allowPrivateNetwork: true, ...simulator.credentials });
  const gateway = await createGateway({ server: defaultServerConfig({ cursorSecret: 'c'.repeat(64) }), sources: [source], demo: false }, { logger: createLogger({ level: 'error' }), port: 0 });
  const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ auditEvents(first: 5) { edges { cursor node { id action } } } }' }) });
  const body = await response.json();
  if (body.errors || body.data.auditEvents.edges.length !== 5) throw new Error(JSON.stringify(body));
  process.stdout.write(JSON.stringify(Object.keys(require.cache)));
  await gateway.stop(0);
  await simulator.stop();
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** Packages a gateway loads only when its config asks for what they do. */
const OPTIONAL = {
  'the Redis client (server.cache.redisUrl)': /node_modules\/(@keyv\/redis|@redis\/client)\//,
  'the OpenTelemetry SDK and exporter (OTEL_* tracing)': /node_modules\/@opentelemetry\/(sdk-trace-base|resources|exporter-trace-otlp-http)\//,
  'jose (server.auth.jwt)': /node_modules\/jose\//,
};

describe('optional dependencies', () => {
  it('are not loaded by a gateway whose config does not use them', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
    const { stdout } = await run(process.execPath, ['-e', SCRIPT], { env: { ...env, NODE_ENV: 'production' }, timeout: 60_000 });
    const loaded = JSON.parse(stdout) as string[];
    expect(loaded.some((file) => file.includes(`${path.sep}node_modules${path.sep}@apollo${path.sep}server${path.sep}`))).toBe(true);
    const unexpected = Object.entries(OPTIONAL)
      .map(([what, pattern]) => ({ what, files: loaded.filter((file) => pattern.test(file.split(path.sep).join('/'))).length }))
      .filter(({ files }) => files > 0);
    expect(unexpected).toEqual([]);
  }, 90_000);
});
