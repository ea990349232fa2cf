import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The typed client example (`examples/client/`) as a client developer runs it: its codegen from
 * `schema.graphql`, `tsc` with its own strict tsconfig, and the compiled program against the
 * compiled demo gateway (`npm test` builds dist/ first).
 */
const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/client');
const GATEWAY = path.join(ROOT, 'dist/src/index.js');
const CODEGEN = path.join(ROOT, 'node_modules/@graphql-codegen/cli/esm/bin.js');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The demo gateway: no config, a free loopback port, production mode as `npm start` runs it. */
function startDemoGateway(): { child: ChildProcess; url: Promise<string>; exited: Promise<number | null> } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', PORT: '0', LOG_LEVEL: 'info', AUDIT_GATEWAY_CONFIG: '' };
  delete env['HOST'];
  const child = spawn(process.execPath, [GATEWAY], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"url":"(http:[^"]+)"/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`the demo gateway exited (${code}) before serving: ${stderr}`)));
  });
  return { child, url, exited };
}

describe('the typed client example', () => {
  let gateway: ReturnType<typeof startDemoGateway> | null = null;
  let outDir = '';
  let built: { codegen: Finished; tsc: Finished | null } | null = null;

  beforeAll(async () => {
    if (!fs.existsSync(GATEWAY)) throw new Error(`${GATEWAY} is missing: run \`npm run build\` first (npm test does)`);
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'typed-client-'));
    // The gateway starts its simulators while the example is generated and compiled.
    gateway = startDemoGateway();
    const codegen = await runNode([CODEGEN, '--config', 'codegen.ts', '--silent'], EXAMPLE);
    const tsc = codegen.code === 0 ? await runNode([TSC, '-p', '.', '--outDir', outDir], EXAMPLE) : null;
    built = { codegen, tsc };
  }, 150_000);

  afterAll(async () => {
    if (gateway) {
      gateway.child.kill('SIGTERM');
      // A gateway that ignores SIGTERM is killed, so that the suite ends instead of hanging.
      const stuck = setTimeout(() => gateway?.child.kill('SIGKILL'), 20_000);
      await gateway.exited;
      clearTimeout(stuck);
    }
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  }, 30_000);

  it('generates typed documents from schema.graphql and compiles with its own strict tsconfig', () => {
    expect(built?.codegen).toMatchObject({ code: 0 });
    expect(built?.tsc).toMatchObject({ code: 0, stdout: '' });
    expect(fs.existsSync(path.join(outDir, 'main.js'))).toBe(true);
  });

  it('pages through the demo gateway, refetches an event by its id and reads statistics', async () => {
    expect(built?.tsc?.code).toBe(0);
    const url = await gateway!.url;
    const run = await runNode([path.join(outDir, 'main.js'), url], outDir);
    // Its stderr carries only the gateway's partial errors, which a loaded machine may cause (a
    // statistics scan past the request deadline): they are warnings, and the exit status is 0.
    expect(run).toMatchObject({ code: 0 });

    const lines = run.stdout.split('\n');
    const pages = lines.flatMap((line) => {
      const match = /^page (\d+): (\d+) events$/.exec(line);
      return match ? [{ page: Number(match[1]), events: Number(match[2]) }] : [];
    });
    expect(pages.length).toBeGreaterThanOrEqual(2);
    for (const page of pages) expect(page.events).toBeGreaterThan(0);

    // Each page continues from the previous page's endCursor: no event is listed twice.
    const ids = lines.flatMap((line) => /^ {2}(\S+) \d{4}-\d\d-\d\dT\S+Z \S+ /.exec(line)?.[1] ?? []);
    expect(ids).toHaveLength(pages.reduce((sum, page) => sum + page.events, 0));
    expect(new Set(ids).size).toBe(ids.length);

    const refetched = lines.find((line) => line.startsWith('refetched '));
    expect(refetched).toMatch(new RegExp(`^refetched AuditEvent ${ids[0]}: `));

    const statistics = /^statistics as of \S+: (\d+) events/m.exec(run.stdout);
    expect(statistics).not.toBeNull();
    expect(Number(statistics![1])).toBeGreaterThan(0);
  }, 120_000);
});
