import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';

/**
 * The compiled entry that `npm start` runs (`npm test` builds it first), in production mode as
 * `npm start` runs it: jest's own NODE_ENV=test would change what the process does (Apollo Server
 * installs its own signal handlers only outside tests, which once kept the gateway from stopping).
 */
const ENTRY = path.resolve(__dirname, '../../dist/src/index.js');

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [ENTRY, ...args], { env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('the audit-gateway process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`starts in demo mode without a config, says so first, serves, and stops on ${signal}${signal === 'SIGINT' ? ' (Ctrl-C)' : ''}`, async () => {
      const proc = run([], { PORT: '0', LOG_LEVEL: 'info', AUDIT_GATEWAY_CONFIG: '' });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setInterval(() => {
            const match = /"url":"(http:[^"]+)"/.exec(proc.output().stdout);
            if (match) {
              clearInterval(timer);
              resolve(match[1]!);
            }
          }, 100);
          void proc.exited.then(() => reject(new Error(`exited early: ${proc.output().stderr}`)));
        });
        const firstLine = JSON.parse(proc.output().stdout.split('\n')[0]!) as { msg: string };
        expect(firstLine.msg).toMatch(/^demo mode/);
        const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ auditEvents(first: 2) { nodes { action source { vendor } } } }"}' });
        const body = (await response.body.json()) as { data: { auditEvents: { nodes: unknown[] } } };
        expect(body.data.auditEvents.nodes).toHaveLength(2);
      } finally {
        proc.child.kill(signal);
      }
      // A gateway that ignores the signal is killed, so that the test fails instead of hanging.
      const stillRunning = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
      const code = await proc.exited;
      clearTimeout(stillRunning);
      expect(proc.output().stdout).toContain('"msg":"stopped"');
      expect(code).toBe(0);
    }, 60_000);
  }

  it('stops the whole process group of npm start on SIGINT, as Ctrl-C in a terminal does', async () => {
    // A detached child leads its own process group. `npm start` itself, without its build step
    // (done by `npm test` before jest), and without NODE_ENV, as a newcomer types it.
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'info', AUDIT_GATEWAY_CONFIG: '' };
    delete env['NODE_ENV'];
    const child = spawn('npm', ['start', '--ignore-scripts', '--silent'], {
      cwd: path.resolve(__dirname, '../..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (stdout.includes('gateway ready at')) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      void exited.then(() => reject(new Error('exited early')));
    });
    // The gateway shares npm's stdout: the pipe closes when the last process of the group is gone.
    const allGone = new Promise<void>((resolve) => child.stdout.on('close', () => resolve()));
    process.kill(-child.pid!, 'SIGINT');
    const stillRunning = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    await Promise.all([exited, allGone]);
    clearTimeout(stillRunning);
    expect(stdout).toContain('"msg":"stopped"');
    expect(stdout).not.toContain('"level":50');
    expect(() => process.kill(-child.pid!, 0)).toThrow();
  }, 60_000);

  it('refuses to serve the demo on a non-loopback address, where anyone could read it without a key', async () => {
    const proc = run([], { PORT: '0', HOST: '0.0.0.0', AUDIT_GATEWAY_CONFIG: '' });
    const code = await proc.exited;
    expect(code).toBe(2);
    expect(proc.output().stderr).toMatch(/server\.auth: required to listen on '0\.0\.0\.0'/);
  }, 30_000);

  it('in production with a config, keeps introspection, GraphiQL and field suggestions off unless the config turns them on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-'));
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'server:\n  port: 0\n  cursorSecret: ${SECRET}\nsources:\n  - id: n1\n    vendor: nirvana\n    baseUrl: http://127.0.0.1:9\n    allowPrivateNetwork: true\n    apiKey: k\n');
    const proc = run(['--config', file], { SECRET: 'x'.repeat(40), LOG_LEVEL: 'info', PORT: '0' });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /"url":"(http:[^"]+)"/.exec(proc.output().stdout);
          if (match) {
            clearInterval(timer);
            resolve(match[1]!);
          }
        }, 100);
        void proc.exited.then(() => reject(new Error(`exited early: ${proc.output().stderr}`)));
      });
      const post = async (query: string) => {
        const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
        return { status: response.statusCode, text: await response.body.text() };
      };
      const introspection = await post('{ __schema { types { name } } }');
      expect(introspection.status).toBe(400);
      expect(introspection.text).toMatch(/introspection/i);
      const misspelled = await post('{ sourcez { sourceId } }');
      expect(misspelled.status).toBe(400);
      expect(misspelled.text).not.toMatch(/did you mean/i);
      const page = await request(url, { headers: { accept: 'text/html' } });
      expect(page.headers['content-type']).not.toMatch(/text\/html/);
      await page.body.dump();
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  }, 60_000);

  it('refuses an invalid config at start-up, naming the key and not the secret', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-'));
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'server:\n  cursorSecret: ${SECRET}\nsources:\n  - id: n1\n    vendor: nirvana\n    baseUrl: http://10.0.0.1\n    apiKey: ${KEY}\n');
    const proc = run(['--config', file], { SECRET: 'CANARY-'.repeat(6), KEY: 'CANARY-key' });
    expect(await proc.exited).toBe(2);
    const { stderr, stdout } = proc.output();
    expect(stderr).toContain('sources[0].baseUrl: https host on the vendor allowlist');
    expect(stderr + stdout).not.toContain('CANARY');
  }, 60_000);

  it('names a missing environment variable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-'));
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'server:\n  cursorSecret: ${SECRET}\nsources:\n  - id: n1\n    vendor: nirvana\n    baseUrl: https://api.nirvanalabs.io\n    apiKey: ${NIRVANA_KEY_THAT_IS_NOT_SET}\n');
    const proc = run(['--config', file], { SECRET: 'x'.repeat(40) });
    expect(await proc.exited).toBe(2);
    expect(proc.output().stderr).toContain('sources[0].apiKey: environment variable NIRVANA_KEY_THAT_IS_NOT_SET is not set or is empty');
  }, 60_000);
});
