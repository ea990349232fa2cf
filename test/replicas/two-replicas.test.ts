import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';
import { startVendorSimulator } from '../../src/vendors/simulators';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis';

/** The compiled entry `npm start` runs (built by `npm test` before jest). */
const ENTRY = path.resolve(__dirname, '../../dist/src/index.js');

/** Each scenario calls as its own client, so that their rate-limit windows are apart. */
const KEYS = { pager: 'pager-key-0123456789', reference: 'reference-key-0123456789', exporter: 'exporter-key-0123456789', burst: 'burst-key-0123456789' } as const;
type Client = keyof typeof KEYS;
const PER_CLIENT_PER_MINUTE = 20;

interface Replica {
  child: ChildProcess;
  url: string;
  origin: string;
  exited: Promise<number | NodeJS.Signals | null>;
  output: () => { stdout: string; stderr: string };
}

interface Answer<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

function launch(config: string, env: Record<string, string>): Replica & { ready: Promise<void> } {
  const child = spawn(process.execPath, [ENTRY, '--config', config], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const replica: Replica & { ready: Promise<void> } = {
    child,
    url: '',
    origin: '',
    exited,
    output: () => ({ stdout, stderr }),
    ready: new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /"url":"(http:[^"]+)"/.exec(stdout);
        if (!match) return;
        clearInterval(timer);
        replica.url = match[1]!;
        replica.origin = new URL(match[1]!).origin;
        resolve();
      }, 50);
      void exited.then(() => {
        clearInterval(timer);
        reject(new Error(`the gateway exited: ${stderr}`));
      });
    }),
  };
  return replica;
}

async function query<T>(replica: Replica, client: Client, text: string, variables: Record<string, unknown> = {}): Promise<Answer<T>> {
  const response = await request(replica.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[client]}` },
    body: JSON.stringify({ query: text, variables }),
  });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Answer<T>['body'] };
}

async function data<T>(replica: Replica, client: Client, text: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await query<T>(replica, client, text, variables);
  if (answer.status !== 200 || answer.body.errors || !answer.body.data) throw new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body.data;
}

const PAGE = `query ($after: String, $first: Int!) {
  auditEvents(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
}`;

async function stop(replica: Replica | undefined): Promise<void> {
  if (!replica || replica.child.exitCode !== null || replica.child.signalCode !== null) return;
  replica.child.kill('SIGTERM');
  const killer = setTimeout(() => replica.child.kill('SIGKILL'), 20_000);
  await replica.exited;
  clearTimeout(killer);
}

describe('two gateway processes over one Redis behave as one gateway', () => {
  let redis: TestRedis;
  const simulators: RunningSimulator[] = [];
  let work: string;
  let config: string;
  let env: Record<string, string>;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    // Fails (never skips) with an install hint when redis-server is missing.
    redis = await startTestRedis();
    simulators.push(await startVendorSimulator('nirvana', { size: 120, seed: 21, endMs: Date.UTC(2026, 10, 1) }));
    simulators.push(await startVendorSimulator('complianceagent', { size: 120, seed: 22, endMs: Date.UTC(2026, 10, 1) }));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'two-replicas-'));
    config = path.join(work, 'config.yaml');
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    fs.writeFileSync(
      config,
      stringify({
        server: {
          cursorSecret: '${CURSOR_SECRET}',
          auth: { apiKeys: Object.entries(KEYS).map(([id, key]) => ({ id, sha256: sha256(key), sources: '*' })) },
          admission: { perClientPerMinute: PER_CLIENT_PER_MINUTE },
          // One directory for both, as a volume replicas share.
          exports: { dir: path.join(work, 'exports'), signingKey: '${EXPORT_SIGNING_KEY}' },
          cache: { redisUrl: '${REDIS_URL}' },
        },
        sources: [
          { id: 'nirvana-main', vendor: 'nirvana', baseUrl: simulators[0]!.baseUrl, allowPrivateNetwork: true, ...simulators[0]!.credentials },
          { id: 'ca-main', vendor: 'complianceagent', baseUrl: simulators[1]!.baseUrl, allowPrivateNetwork: true, ...simulators[1]!.credentials },
        ],
      }),
    );
    env = {
      CURSOR_SECRET: randomBytes(24).toString('hex'),
      EXPORT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      REDIS_URL: redis.url,
    };
    const first = launch(config, env);
    const second = launch(config, env);
    a = first;
    b = second;
    await Promise.all([first.ready, second.ready]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stop(a), stop(b)]);
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    await redis?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('says at start that its state is shared', () => {
    for (const replica of [a, b]) expect(replica.output().stdout).toContain('shared state in Redis');
  });

  it('pages a traversal alternating between the replicas without losing or repeating an event', async () => {
    const reference: string[] = [];
    let after: string | null = null;
    do {
      const page: { auditEvents: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await data(a, 'reference', PAGE, { first: 100, after });
      reference.push(...page.auditEvents.nodes.map((node) => node.id));
      after = page.auditEvents.pageInfo.hasNextPage ? page.auditEvents.pageInfo.endCursor : null;
    } while (after);
    expect(reference).toHaveLength(240);

    const alternating: string[] = [];
    after = null;
    let pages = 0;
    do {
      const replica = pages % 2 === 0 ? a : b;
      const page: { auditEvents: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await data(replica, 'pager', PAGE, { first: 45, after });
      alternating.push(...page.auditEvents.nodes.map((node) => node.id));
      after = page.auditEvents.pageInfo.hasNextPage ? page.auditEvents.pageInfo.endCursor : null;
      pages += 1;
    } while (after && pages < PER_CLIENT_PER_MINUTE);
    expect(after).toBeNull();
    expect(alternating).toEqual(reference);
  }, 60_000);

  it('shows an export started on one replica on the other, and serves its archive from there', async () => {
    const started = await data<{ startAuditExport: { id: string; status: string } }>(a, 'exporter', 'mutation { startAuditExport(input: { formats: [JSONL] }) { id status } }');
    const { id } = started.startAuditExport;
    // Visible on the other replica at once, while it may still run there.
    const seen = await data<{ node: { id: string; status: string } | null }>(b, 'exporter', 'query ($id: ID!) { node(id: $id) { id ... on AuditExport { status } } }', { id });
    expect(seen.node?.id).toBe(id);

    type Job = { status: string; downloadUrl: string | null; progress: { eventsWritten: number } } | null;
    const poll = async () => (await data<{ auditExport: Job }>(b, 'exporter', 'query ($id: ID!) { auditExport(id: $id) { status downloadUrl progress { eventsWritten } } }', { id })).auditExport;
    // Backing off, so that a slow machine's polls stay well within the client's rate limit.
    let job = await poll();
    for (let delayMs = 100; job?.status === 'RUNNING'; delayMs = Math.min(delayMs * 2, 5_000)) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      job = await poll();
    }
    expect(job).toMatchObject({ status: 'COMPLETED', progress: { eventsWritten: 240 } });
    // Another client sees nothing of it, on either replica.
    expect((await data<{ auditExport: unknown }>(b, 'reference', 'query ($id: ID!) { auditExport(id: $id) { status } }', { id })).auditExport).toBeNull();

    const download = await request(`${b.origin}${job!.downloadUrl!}`, { headers: { authorization: `Bearer ${KEYS.exporter}` } });
    expect(download.statusCode).toBe(200);
    const archive = Buffer.from(await download.body.arrayBuffer());
    expect(archive.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    expect(download.headers['etag']).toBeDefined();
    const elsewhere = await request(`${a.origin}${job!.downloadUrl!}`, { method: 'HEAD', headers: { authorization: `Bearer ${KEYS.exporter}` } });
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.headers['etag']).toBe(download.headers['etag']);
    await elsewhere.body.dump();
  }, 90_000);

  it('holds a client to its rate limit across both replicas', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < PER_CLIENT_PER_MINUTE + 10; i++) {
      const answer = await query(i % 2 === 0 ? a : b, 'burst', '{ sources { id } }');
      statuses.push(answer.status);
      if (answer.status === 429) {
        expect(answer.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
        retryAfter = String(answer.headers['retry-after']);
      }
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(PER_CLIENT_PER_MINUTE);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  }, 60_000);

  it('refuses to start when Redis does not answer, naming the key and never the password', async () => {
    const port = await freePort();
    const replica = launch(config, { ...env, REDIS_URL: `redis://:never-logged-password@127.0.0.1:${port}` });
    await expect(replica.ready).rejects.toThrow();
    expect(await replica.exited).not.toBe(0);
    const { stdout, stderr } = replica.output();
    expect(stderr).toContain('server.cache.redisUrl');
    expect(stderr).toContain(`127.0.0.1:${port}`);
    expect(stdout + stderr).not.toContain('never-logged-password');
  }, 60_000);
});
