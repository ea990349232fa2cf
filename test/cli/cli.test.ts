import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The `audit-gateway` command line as the package's bin and `npm start` run it: the compiled
 * entry (`npm test` builds it first), with NODE_ENV=production as `npm start` sets it.
 */
const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'dist/src/index.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [ENTRY, ...args], {
    env: { ...process.env, NODE_ENV: 'production', AUDIT_GATEWAY_CONFIG: '', PORT: '', HOST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A command that started serving by mistake would never exit: kill it so that the test fails.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
}

const SECRETS = {
  CURSOR_SECRET: 'CANARY-cursor-0123456789abcdefghijklmnop',
  NIRVANA_API_KEY: 'CANARY-nirvana-key',
  PORT_CLIENT_SECRET: 'CANARY-port-secret',
  AGILICUS_TOKEN: 'CANARY-agilicus-token',
  REDIS_URL: 'redis://:CANARY-redis-password@127.0.0.1:6379',
};

const GOOD_CONFIG = `server:
  port: 4100
  cursorSecret: \${CURSOR_SECRET}
  cache:
    redisUrl: \${REDIS_URL}
  auth:
    apiKeys:
      - id: secops
        sha256: ${createHash('sha256').update('a key').digest('hex')}
        sources: '*'
sources:
  - id: nirvana-main
    vendor: nirvana
    baseUrl: https://api.nirvanalabs.io
    apiKey: \${NIRVANA_API_KEY}
  - id: port-prod
    vendor: port
    baseUrl: https://api.port.io
    clientId: port-client
    clientSecret: \${PORT_CLIENT_SECRET}
  - id: agilicus-main
    vendor: agilicus
    baseUrl: https://api.agilicus.com
    token: \${AGILICUS_TOKEN}
`;

describe('the audit-gateway command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const writeConfig = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('is the package bin, and the same file npm start runs', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin).toEqual({ 'audit-gateway': 'dist/src/index.js' });
    expect(pkg.scripts['start']).toBe('node dist/src/index.js');
    expect(fs.readFileSync(ENTRY, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await run([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^usage: audit-gateway/);
      for (const word of ['--config FILE', '--check-config', 'verify-export FILE|DIR', '--public-key', '--version', 'AUDIT_GATEWAY_CONFIG']) expect(result.stdout).toContain(word);
      expect(result.stderr).toBe('');
    }
  }, 60_000);

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await run(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  }, 60_000);

  it('--check-config prints the resolved sources and server settings without a secret, and exits 0', async () => {
    const file = writeConfig('good.yaml', GOOD_CONFIG);
    const result = await run(['--check-config', '--config', file], SECRETS);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`config OK: ${file}`);
    expect(out).toContain('listen: 127.0.0.1:4100');
    expect(out).toContain('auth: required: 1 API key(s) (secops)');
    expect(out).toContain('introspection: off, graphiql: off');
    expect(out).toContain('shared cache: Redis');
    expect(out).toContain('nirvana-main: vendor nirvana, baseUrl https://api.nirvanalabs.io');
    expect(out).toContain('port-prod: vendor port, baseUrl https://api.port.io');
    expect(out).toContain('agilicus-main: vendor agilicus, baseUrl https://api.agilicus.com');
    expect(out).toContain('credentials: apiKey set');
    expect(out).toContain('credentials: clientId set, clientSecret set');
    expect(out).toContain('credentials: token set, orgId not set');
    for (const secret of Object.values(SECRETS)) expect(out + result.stderr).not.toContain(secret);
    // Not even the API key's hash, nor the plain credential of the file.
    expect(out).not.toContain(createHash('sha256').update('a key').digest('hex'));
    expect(out).not.toContain('port-client');
  }, 60_000);

  it('--check-config reads AUDIT_GATEWAY_CONFIG and applies PORT and HOST as start-up does', async () => {
    const file = writeConfig('env.yaml', GOOD_CONFIG);
    const result = await run(['--check-config'], { ...SECRETS, AUDIT_GATEWAY_CONFIG: file, PORT: '4555', HOST: '::1' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('listen: ::1:4555');
  }, 60_000);

  it('--check-config of a bad config prints the error naming the key, never the secret, and exits 2', async () => {
    const file = writeConfig('bad.yaml', GOOD_CONFIG.replace('https://api.port.io', 'http://10.0.0.1'));
    const result = await run(['--check-config', '--config', file], SECRETS);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('sources[1].baseUrl: https host on the vendor allowlist');
    for (const secret of Object.values(SECRETS)) expect(result.stdout + result.stderr).not.toContain(secret);

    const missing = await run(['--check-config', '-c', writeConfig('good2.yaml', GOOD_CONFIG)], { ...SECRETS, NIRVANA_API_KEY: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('sources[0].apiKey: environment variable NIRVANA_API_KEY is not set or is empty');

    const exposed = await run(['--check-config', '--config', writeConfig('open.yaml', GOOD_CONFIG.replace(/ {2}auth:[\s\S]*?'\*'\n/, ''))], { ...SECRETS, HOST: '0.0.0.0' });
    expect(exposed.code).toBe(2);
    expect(exposed.stderr).toContain("server.auth: required to listen on '0.0.0.0'");

    const absent = await run(['--check-config', '--config', path.join(dir, 'no-such.yaml')]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain("cannot read config file '");

    const none = await run(['--check-config']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--check-config needs a config');
  }, 60_000);

  it('refuses an unknown option, a stray argument and --config without a file, with exit 2', async () => {
    const unknown = await run(['--verbose']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain("audit-gateway: unknown option '--verbose'");
    expect(unknown.stderr).toContain("'audit-gateway --help'");

    const stray = await run(['serve-please']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("unknown command 'serve-please'");

    const noFile = await run(['--config']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('--config needs a file path');
  }, 60_000);

  it('runs verify-export with its own options and exit codes', async () => {
    const unusable = await run(['verify-export', path.join(dir, 'no-such.zip')]);
    expect(unusable.code).toBe(2);
    expect(unusable.stderr).toMatch(/^UNUSABLE: cannot read '.*no-such\.zip': ENOENT/);

    const noKey = await run(['verify-export', path.join(dir, 'no-such.zip'), '--public-key', path.join(dir, 'no-such.pem')]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('UNUSABLE: cannot read the public key');

    const help = await run(['verify-export', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: audit-gateway verify-export FILE\|DIR \[--public-key PEM_FILE\]/);
  }, 60_000);
});
