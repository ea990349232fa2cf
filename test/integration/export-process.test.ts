import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';
import { startVendorSimulator } from '../../src/vendors/simulators';

/** The compiled entry `npm start` runs (built by `npm test` before jest). */
const ENTRY = path.resolve(__dirname, '../../dist/src/index.js');

/** Starts the compiled gateway and resolves with its URL once it serves. */
async function startProcess(config: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [ENTRY, '--config', config], { env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /"url":"(http:[^"]+)"/.exec(stdout);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 50);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`the gateway exited: ${stderr}`));
    });
  });
  const query = async <T>(text: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text, variables }) });
    const body = (await response.body.json()) as { data: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  return { child, exited, query };
}

describe('a compiled gateway killed mid-export', () => {
  let simulator: RunningSimulator;
  let work: string;

  beforeAll(async () => {
    simulator = await startVendorSimulator('nirvana', { size: 4000, seed: 5, endMs: Date.UTC(2026, 10, 1) });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-process-'));
  });
  afterAll(async () => {
    await simulator?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('leaves the job RUNNING on disk, and the restarted gateway marks it FAILED and deletes its partial files', async () => {
    const dir = path.join(work, 'exports');
    const config = path.join(work, 'config.yaml');
    fs.writeFileSync(
      config,
      stringify({
        server: { cursorSecret: randomBytes(24).toString('hex'), exports: { dir, signingKey: '${EXPORT_SIGNING_KEY}' } },
        sources: [{ id: 'nirvana-main', vendor: 'nirvana', baseUrl: simulator.baseUrl, allowPrivateNetwork: true, ...simulator.credentials }],
      }),
    );
    const env = { EXPORT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    simulator.control.knobs.latencyMs = 25;

    const first = await startProcess(config, env);
    let id: string;
    try {
      ({ startAuditExport: { id } } = await first.query<{ startAuditExport: { id: string } }>('mutation { startAuditExport(input: {}) { id } }'));
      for (;;) {
        const { auditExport } = await first.query<{ auditExport: { status: string; progress: { eventsWritten: number } } }>('query ($id: ID!) { auditExport(id: $id) { status progress { eventsWritten } } }', { id });
        expect(auditExport.status).toBe('RUNNING');
        if (auditExport.progress.eventsWritten > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(await first.exited).toBe('SIGKILL');
    const jobId = JSON.parse(Buffer.from(id, 'base64url').toString())[1] as string;
    expect(JSON.parse(fs.readFileSync(path.join(dir, `${jobId}.json`), 'utf8'))).toMatchObject({ status: 'RUNNING' });
    expect(fs.readdirSync(dir).some((name) => name.endsWith('.part'))).toBe(true);

    simulator.control.knobs.latencyMs = 0;
    const second = await startProcess(config, env);
    try {
      const { auditExport } = await second.query<{ auditExport: { status: string; error: { code: string } | null; downloadUrl: string | null } }>(
        'query ($id: ID!) { auditExport(id: $id) { status error { code } downloadUrl } }',
        { id },
      );
      expect(auditExport).toEqual({ status: 'FAILED', error: { code: 'GATEWAY_RESTARTED' }, downloadUrl: null });
      expect(fs.readdirSync(dir)).toEqual([`${jobId}.json`]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});
