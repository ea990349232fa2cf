import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { sourceConfig } from '../src/config';
import type { LatencyMessage, LoadtestSimulatorStats, LoadtestSimulatorsReady } from './loadtest-simulators';
import { siblingExecArgv, siblingScript } from './sibling';
import { establishedTo, memoryAfterGc, soakGatewayNodeArgs, socketInodes, type SoakMemoryReply } from './soak-probes';

/**
 * `npm run loadtest`: the compiled gateway (`node dist/src/index.js --config <temp YAML>`,
 * NODE_ENV=production) in its own process, over the five vendor simulators in another, driven by
 * undici clients from this one. Nine scenarios, each with its targets:
 *
 * 1. steady: 50 clients for LOADTEST_SECONDS (60) sending a mix of first pages, continuing
 *    traversals, filtered pages, node(id) refetches and `sources`: no error, no 5xx;
 * 2. shedding: 200 clients against the bulkhead (32 running, 64 queued): the excess answered at
 *    once with 503 OVERLOADED and Retry-After, the admitted answered, none left without an
 *    answer past the gateway's deadline plus 5 s, /healthz answering throughout;
 * 3. slow source: one simulator answers after 7 s, beyond its source's 5 s header timeout:
 *    pages restricted to the other sources keep their latency, merged pages answer within the
 *    request deadline with the others' events and the slow source's error (UPSTREAM_TIMEOUT, or
 *    UPSTREAM_UNAVAILABLE once its circuit breaker has opened);
 * 4. memory: the steady load run again right after the first; the gateway's RSS
 *    (/proc/<pid>/status VmRSS) at the end of the second phase within 10% of the end of the first.
 * 5. soak, only when LOADTEST_SCENARIOS names it (`npm run soak`): SOAK_CLIENTS (20) clients of
 *    the mix for SOAK_SECONDS (600), sampled every 10 s: RSS at most 300 MB and growing at most
 *    10% from minute 2 to the end, heap used after a full GC at the end within 20% of minute 2,
 *    established upstream sockets never above each source's configured pool. It runs last.
 * 6. abuse: 50 clients sending only an operation far over `maxCost`: alone, every one refused
 *    (400 COST_LIMIT) with no upstream request; beside 10 clients of the mix, those keep their
 *    p99 within 2x of what they had alone.
 * 7. pages (RELIABILITY's L1 as written): 50 clients of `first: 50` pages merged over three
 *    sources, half first pages and half pages that go on with a traversal, on a gateway of its
 *    own with a batch cache that holds every client's batches: no error, at least 200 req/s,
 *    p99 at most 500 ms.
 * 8. with pages, L3 as written: 200 clients of the same pages on that gateway for
 *    LOADTEST_SECONDS, with the targets of "shedding" and an admitted p99 of at most 2 s.
 * 9. with pages, L4 as written: Port answers 30 % 503 and Agilicus 2 s late while 40 clients
 *    send those pages and 10 merged pages of all five (after a warm-up as long as L1's): the
 *    pages' p99 within 1.2x L1's, merged pages whole or partial with the sick sources' errors
 *    alone, retries adding at most 20 %.
 *
 * Run order: steady, its repeat (memory), shedding, slow source, abuse, soak, pages; every process CPU use and what
 * other processes took of the host are printed with each phase, since a busy host moves every
 * figure.
 *
 * Prints a markdown table of figures and targets, and exits 1 when a target is not met. Not part
 * of `npm test`.
 */

const STEADY_SECONDS = Number(process.env['LOADTEST_SECONDS'] ?? 60);
/** The scenarios to run (LOADTEST_SCENARIOS, comma separated: steady, pages, storm, slow, abuse, soak); default all but soak. Memory runs with steady. */
const SCENARIOS = new Set((process.env['LOADTEST_SCENARIOS'] ?? 'steady,pages,storm,slow,abuse').split(',').map((name) => name.trim()));
const STORM_SECONDS = Math.max(5, Math.round(STEADY_SECONDS / 3));
const SLOW_SECONDS = Math.max(5, Math.round(STEADY_SECONDS / 6));
/** Clients of the steady phases (LOADTEST_CLIENTS, default 50). */
const STEADY_CLIENTS = Number(process.env['LOADTEST_CLIENTS'] ?? 50);
const STORM_CLIENTS = 200;
const SLOW_CLIENTS_EACH = 10;
const SLOW_VENDOR = process.env['LOADTEST_SLOW_VENDOR'] ?? 'nirvana';
/** How slow the slow source answers (LOADTEST_SLOW_MS, default 2 s: within its timeouts, so its pages wait for it). */
const SLOW_LATENCY_MS = Number(process.env['LOADTEST_SLOW_MS'] ?? 2_000);
/**
 * How a merged page may fail the slow source cleanly: its call timed out, or its circuit breaker
 * had opened after earlier timeouts and the call failed at once.
 */
const CLEAN_FAILURES = new Set(['UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE']);

/** The config the gateway runs with (written to a temp YAML file; nothing else is defaulted silently). */
const REQUEST_TIMEOUT_MS = 10_000;
/** The batch cache of the gateway of every scenario but "pages": the product's default. */
const CACHE_MAX_EVENTS = 10_000;
/**
 * The batch cache of the "pages" scenario's gateway: room for every client's current batch of
 * each source, since a traversal's next page reads on from its batch in the cache and a batch
 * evicted before then is read again from the upstream. It costs memory (about 3 KB an event,
 * `raw` included), so the other scenarios keep the default and this one has a gateway of its own.
 */
const PAGES_CACHE_MAX_EVENTS = Number(process.env['LOADTEST_PAGES_CACHE_EVENTS'] ?? 50_000);
/** Seconds of the "pages" load run before the measured phase, unrecorded: the gateway is fresh. */
const PAGES_WARM_SECONDS = Math.max(10, Math.round(STEADY_SECONDS / 3));
const ADMISSION = { maxInFlight: Number(process.env['LOADTEST_MAX_IN_FLIGHT'] ?? 32), maxQueued: 64, perClientPerMinute: 10_000_000 };
/** The documented defaults, written out: the slow simulator answers after 7 s, beyond headersMs. */
const SOURCE_TIMEOUTS = { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000, requestMs: 8_000 };
const SOURCE_RETRY = { maxRetries: 2, minDelayMs: 250, maxDelayMs: 2_000 };

/** A request must be answered within this: the gateway's own deadline plus 5 s. */
const CLIENT_DEADLINE_MS = REQUEST_TIMEOUT_MS + 5_000;
/** A request still unanswered after this is given up (NO_ANSWER): a hang, not just a late answer. */
const GIVE_UP_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Queries

const PAGE = `query Page($first: Int!, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    nodes { id occurredAt action category actor { type name } target { type name } source { sourceId } }
    pageInfo { hasNextPage endCursor }
    sourceStatuses { source { sourceId } status }
  }
}`;
const NESTED = `query Nested { auditEvents(first: 10) { nodes { id actor { node { events(first: 5) { nodes { id } } } } } } }`;
const STATISTICS = `query Statistics($filter: AuditEventFilter) { auditStatistics(filter: $filter) { exact totalEvents bySource { source { sourceId } count } } }`;
const NODE = `query Node($id: ID!) { node(id: $id) { id ... on AuditEvent { occurredAt action actor { name email } source { sourceId } } } }`;
const SOURCES = `{ sources { id sourceId vendor name capabilities { pagingKind maxPageSize nativeFilters retentionDays } health { status lastErrorCode } } }`;

interface GraphQLErrorJson {
  message?: string;
  extensions?: { code?: string; source?: string };
}
interface GraphQLJson {
  data?: Record<string, unknown> | null;
  errors?: GraphQLErrorJson[];
}
interface PageNode {
  id: string;
  occurredAt: string;
  action: string;
  source: { sourceId: string };
}
interface PageData {
  nodes: PageNode[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  sourceStatuses: Array<{ source: { sourceId: string }; status: string }>;
}

const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

// ---------------------------------------------------------------------------------------------
// One request and its outcome

interface Outcome {
  ms: number;
  /** HTTP status; 0 when no response came (transport failure or client deadline). */
  status: number;
  /** `extensions.code` of every error, the refusal's code, or NO_ANSWER / TRANSPORT_*. */
  codes: string[];
  /** `extensions.source` of the errors that name one. */
  errorSources: string[];
  retryAfter: string | null;
  json: GraphQLJson | null;
}

async function post(client: Client, text: string): Promise<Outcome> {
  return call(client, { path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
}

async function call(client: Client, options: { path: string; method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<Outcome> {
  const signal = AbortSignal.timeout(GIVE_UP_MS);
  const started = performance.now();
  try {
    const response = await client.request({ ...options, signal });
    const text = await response.body.text();
    const ms = performance.now() - started;
    const retryAfter = response.headers['retry-after'];
    let json: GraphQLJson | null = null;
    try {
      json = JSON.parse(text) as GraphQLJson;
    } catch {
      json = null;
    }
    const errors = json?.errors ?? [];
    const codes = errors.map((error) => error.extensions?.code ?? 'NO_CODE');
    if (response.statusCode !== 200 && codes.length === 0) codes.push(`HTTP_${response.statusCode}`);
    return {
      ms,
      status: response.statusCode,
      codes,
      errorSources: errors.flatMap((error) => (error.extensions?.source ? [error.extensions.source] : [])),
      retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
      json,
    };
  } catch (error) {
    const ms = performance.now() - started;
    const code = signal.aborted ? 'NO_ANSWER' : `TRANSPORT_${(error as { code?: string }).code ?? (error as Error).name}`;
    return { ms, status: 0, codes: [code], errorSources: [], retryAfter: null, json: null };
  }
}

function pageOf(outcome: Outcome): PageData | null {
  const page = outcome.json?.data?.['auditEvents'];
  return page && typeof page === 'object' ? (page as PageData) : null;
}

// ---------------------------------------------------------------------------------------------
// Figures

function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

class Recorder {
  readonly latencies: number[] = [];
  readonly codes = new Map<string, number>();
  readonly statuses = new Map<number, number>();

  add(outcome: Outcome): void {
    this.latencies.push(outcome.ms);
    this.statuses.set(outcome.status, (this.statuses.get(outcome.status) ?? 0) + 1);
    for (const code of outcome.codes) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }

  addCode(code: string): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }

  get count(): number {
    return this.latencies.length;
  }

  p(q: number): number {
    return percentile(this.latencies, q);
  }

  max(): number {
    return this.latencies.reduce((a, b) => Math.max(a, b), 0);
  }

  errorCount(expected: ReadonlySet<string> = new Set()): number {
    let total = 0;
    for (const [code, count] of this.codes) if (!expected.has(code)) total += count;
    return total;
  }

  fiveXx(): number {
    let total = 0;
    for (const [status, count] of this.statuses) if (status >= 500) total += count;
    return total;
  }

  codesText(): string {
    if (this.codes.size === 0) return 'none';
    return [...this.codes].sort((a, b) => b[1] - a[1]).map(([code, count]) => `${code} ${count}`).join(', ');
  }
}

const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`);
const int = (value: number) => Math.round(value).toLocaleString('en-US');

interface Row {
  scenario: string;
  measure: string;
  figure: string;
  target: string;
  met: boolean | null;
}
const rows: Row[] = [];
function figure(scenario: string, measure: string, value: string): void {
  rows.push({ scenario, measure, figure: value, target: '', met: null });
}
function target(scenario: string, measure: string, value: string, targetText: string, met: boolean): void {
  rows.push({ scenario, measure, figure: value, target: targetText, met });
}

// ---------------------------------------------------------------------------------------------
// Virtual clients

/** What the clients know of the data: actions seen and the time span of the events. */
interface Knowledge {
  sourceCount: number;
  actions: string[];
  newestMs: number;
  oldestMs: number;
}

type Operation = 'first page' | 'next page' | 'filter 1 action' | 'filter 2-3 actions' | 'filter window' | 'node(id)' | 'sources' | 'nested' | 'statistics';
const FULL_MIX: Array<[Operation, number]> = [
  ['first page', 0.2],
  ['next page', 0.2],
  ['nested', 0.05],
  ['statistics', 0.05],
  ['filter 1 action', 0.1],
  ['filter 2-3 actions', 0.05],
  ['filter window', 0.1],
  ['node(id)', 0.15],
  ['sources', 0.1],
];
/**
 * The mix the clients send: FULL_MIX, or only the operations LOADTEST_OPERATIONS names (comma
 * separated, e.g. `first page,node(id)`), in the same proportions between them.
 */
const MIX: Array<[Operation, number]> = (() => {
  const only = process.env['LOADTEST_OPERATIONS']?.split(',').map((name) => name.trim()).filter(Boolean);
  if (!only || only.length === 0) return FULL_MIX;
  const unknown = only.find((name) => !FULL_MIX.some(([operation]) => operation === name));
  if (unknown !== undefined) throw new Error(`LOADTEST_OPERATIONS: unknown operation '${unknown}'; known: ${FULL_MIX.map(([operation]) => operation).join(', ')}`);
  const chosen = FULL_MIX.filter(([operation]) => only.includes(operation));
  const total = chosen.reduce((sum, [, weight]) => sum + weight, 0);
  return chosen.map(([operation, weight]) => [operation, weight / total]);
})();

/** What a group of clients sends: the operations, and the sources their pages read (all when absent). */
interface LoadShape {
  mix: Array<[Operation, number]>;
  pageSources?: string[];
}
const MIXED: LoadShape = { mix: MIX };

/**
 * RELIABILITY's L1 as it is written: pages of 50 merged over three sources, the clients' first
 * pages and their traversals going on, in the proportions of the mix.
 */
const PAGES_VENDORS = ['nirvana', 'asana', 'complianceagent'];
const PAGES: LoadShape = {
  mix: FULL_MIX.filter(([operation]) => operation === 'first page' || operation === 'next page').map(([operation]) => [operation, 0.5]),
  pageSources: PAGES_VENDORS.map((vendor) => `${vendor}-load`),
};

function pick<T>(values: readonly T[]): T {
  return values[Math.floor(Math.random() * values.length)]!;
}

/**
 * One client of the mixed load: its own keep-alive connection, its own traversal (following
 * endCursor until the end), and the ids it saw lately for refetches.
 */
class MixedClient {
  private cursor: string | null = null;
  private readonly ids: string[] = [];

  constructor(
    readonly http: Client,
    private readonly knowledge: Knowledge,
    private readonly load: LoadShape = MIXED,
  ) {}

  /** Sends one request of the mix; `unexpected` lists what is wrong with an HTTP 200 answer beyond its error codes. */
  async step(): Promise<{ operation: Operation; outcome: Outcome; unexpected: string[] }> {
    let operation = this.choose();
    if (operation === 'next page' && this.cursor === null) operation = 'first page';
    if (operation === 'node(id)' && this.ids.length === 0) operation = 'first page';
    const unexpected: string[] = [];
    switch (operation) {
      case 'first page':
      case 'next page': {
        const outcome = await post(this.http, body(PAGE, { first: 50, after: operation === 'next page' ? this.cursor : null, ...(this.load.pageSources ? { filter: { sources: this.load.pageSources } } : {}) }));
        const page = pageOf(outcome);
        if (outcome.status === 200) {
          if (!page) unexpected.push('NO_DATA');
          else {
            this.remember(page);
            this.cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
          }
        }
        return { operation, outcome, unexpected };
      }
      case 'filter 1 action':
      case 'filter 2-3 actions': {
        const count = operation === 'filter 1 action' ? 1 : 2 + Math.floor(Math.random() * 2);
        const actions = Array.from({ length: count }, () => pick(this.knowledge.actions));
        const outcome = await post(this.http, body(PAGE, { first: 50, filter: { actions: [...new Set(actions)] } }));
        const page = pageOf(outcome);
        if (outcome.status === 200 && !page) unexpected.push('NO_DATA');
        if (page?.nodes.some((node) => !actions.includes(node.action))) unexpected.push('FILTER_MISMATCH');
        return { operation, outcome, unexpected };
      }
      case 'filter window': {
        const { oldestMs, newestMs } = this.knowledge;
        const span = 30 * 60_000;
        const fromMs = oldestMs + Math.random() * Math.max(0, newestMs - oldestMs - span);
        const from = new Date(fromMs).toISOString();
        const to = new Date(fromMs + span).toISOString();
        const outcome = await post(this.http, body(PAGE, { first: 50, filter: { from, to } }));
        const page = pageOf(outcome);
        if (outcome.status === 200 && !page) unexpected.push('NO_DATA');
        if (page?.nodes.some((node) => node.occurredAt < from || node.occurredAt >= to)) unexpected.push('FILTER_MISMATCH');
        return { operation, outcome, unexpected };
      }
      case 'node(id)': {
        const id = pick(this.ids);
        const outcome = await post(this.http, body(NODE, { id }));
        const node = outcome.json?.data?.['node'];
        if (outcome.status === 200 && outcome.codes.length === 0 && (!node || (node as { id?: string }).id !== id)) unexpected.push('NODE_NOT_FOUND');
        return { operation, outcome, unexpected };
      }
      case 'nested': {
        const outcome = await post(this.http, body(NESTED));
        const events = (outcome.json?.data?.['auditEvents'] as { nodes?: unknown[] } | null | undefined)?.nodes;
        if (outcome.status === 200 && !Array.isArray(events)) unexpected.push('NO_DATA');
        return { operation, outcome, unexpected };
      }
      case 'statistics': {
        // A dashboard's windows: one of four recent days, so that clients share answers as they would.
        const day = 86_400_000;
        const end = Math.floor(this.knowledge.newestMs / day) * day - day * Math.floor(Math.random() * 4);
        const filter = { from: new Date(end - day).toISOString(), to: new Date(end).toISOString() };
        const outcome = await post(this.http, body(STATISTICS, { filter }));
        const statistics = outcome.json?.data?.['auditStatistics'] as { totalEvents?: number } | null | undefined;
        if (outcome.status === 200 && typeof statistics?.totalEvents !== 'number') unexpected.push('NO_DATA');
        return { operation, outcome, unexpected };
      }
      case 'sources': {
        const outcome = await post(this.http, body(SOURCES));
        const sources = outcome.json?.data?.['sources'];
        if (outcome.status === 200 && !(Array.isArray(sources) && sources.length === this.knowledge.sourceCount)) unexpected.push('NO_DATA');
        return { operation, outcome, unexpected };
      }
    }
  }

  private choose(): Operation {
    let draw = Math.random();
    for (const [operation, weight] of this.load.mix) {
      draw -= weight;
      if (draw < 0) return operation;
    }
    return this.load.mix[this.load.mix.length - 1]![0];
  }

  private remember(page: PageData): void {
    for (const node of page.nodes.slice(0, 5)) {
      this.ids.push(node.id);
      if (this.ids.length > 50) this.ids.shift();
    }
  }
}

function newClient(origin: string): Client {
  return new Client(origin, { pipelining: 1, headersTimeout: GIVE_UP_MS, bodyTimeout: GIVE_UP_MS });
}

/** Runs `count` clients, each calling `loop` until `seconds` have passed; closes their connections. */
async function runClients(origin: string, count: number, seconds: number, loop: (client: Client, index: number, until: number) => Promise<void>): Promise<void> {
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const client = newClient(origin);
      try {
        await loop(client, index, until);
      } finally {
        await client.close();
      }
    }),
  );
}

interface MixedResult {
  all: Recorder;
  byOperation: Map<Operation, Recorder>;
  seconds: number;
  /** CPU use of each process over the phase, and the upstream side. */
  cost: { text: string; upstream: string };
}

async function mixedLoad(processes: Processes, knowledge: Knowledge, clients: number, seconds: number, load: LoadShape = MIXED): Promise<MixedResult> {
  const { origin } = processes;
  const meter = new PhaseMeter(processes);
  const all = new Recorder();
  const byOperation = new Map<Operation, Recorder>(load.mix.map(([operation]) => [operation, new Recorder()]));
  const started = performance.now();
  await runClients(origin, clients, seconds, async (http, _index, until) => {
    const client = new MixedClient(http, knowledge, load);
    while (performance.now() < until) {
      const { operation, outcome, unexpected } = await client.step();
      all.add(outcome);
      byOperation.get(operation)!.add(outcome);
      for (const code of unexpected) {
        all.addCode(code);
        byOperation.get(operation)!.addCode(code);
      }
    }
  });
  return { all, byOperation, seconds: (performance.now() - started) / 1000, cost: await meter.read() };
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Processes {
  simulators: ChildProcess;
  gateway: ChildProcess;
  gatewayPid: number;
  origin: string;
  ready: LoadtestSimulatorsReady;
  tempDir: string;
  logPath: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function ask<T>(child: ChildProcess, message: object, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (answer: { type: string }) => {
      if (answer.type === reply) {
        child.off('message', onMessage);
        resolve(answer as T);
      }
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function setLatency(simulators: ChildProcess, message: Omit<LatencyMessage, 'type'>): Promise<void> {
  await ask(simulators, { type: 'latency', ...message }, 'latency-set');
}

/** `soak`: the gateway also gets the soak's preload and an IPC channel to it (see bench/soak-probes.ts). */
async function start(soak = false, cacheMaxEvents = CACHE_MAX_EVENTS): Promise<Processes> {
  const simulators = fork(siblingScript('loadtest-simulators'), { execArgv: siblingExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<LoadtestSimulatorsReady>((resolve) => simulators.once('message', (message: LoadtestSimulatorsReady) => resolve(message)));

  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-gateway-loadtest-'));
  const configPath = path.join(tempDir, 'config.yaml');
  const logPath = path.join(tempDir, 'gateway.log');
  const port = await freePort();
  const config = {
    server: {
      port,
      host: '127.0.0.1',
      cursorSecret: '${LOADTEST_CURSOR_SECRET}',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      scanBudgetRequests: 20,
      cacheMaxEvents,
      maxCost: 10_000,
      admission: ADMISSION,
    },
    sources: ready.simulators.map((simulator) => ({
      id: `${simulator.vendor}-load`,
      vendor: simulator.vendor,
      baseUrl: simulator.baseUrl,
      allowPrivateNetwork: true,
      maxConnections: 32,
      timeouts: SOURCE_TIMEOUTS,
      retry: SOURCE_RETRY,
      ...simulator.credentials,
    })),
  };
  fs.writeFileSync(configPath, toYaml(config), { mode: 0o600 });

  const compiled = path.extname(__filename) === '.js';
  const entry = path.join(__dirname, '..', 'src', compiled ? 'index.js' : 'index.ts');
  const log = fs.openSync(logPath, 'a');
  // LOADTEST_GATEWAY_NODE_ARGS: extra Node flags for the gateway alone, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile it under load.
  const extraNodeArgs = (process.env['LOADTEST_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  // The soak reads the heap after a full GC through a bench-only preload over IPC, so that the product needs no debug endpoint for it.
  const soakArgs = soak ? soakGatewayNodeArgs() : [];
  const gateway = spawn(process.execPath, ['--trace-warnings', ...soakArgs, ...extraNodeArgs, ...siblingExecArgv(), entry, '--config', configPath], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', LOADTEST_CURSOR_SECRET: randomBytes(32).toString('hex') },
    stdio: soak ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
  });
  fs.closeSync(log);
  if (gateway.pid === undefined) throw new Error('the gateway process did not start');
  // Never leave the gateway behind, whatever ends this process.
  process.on('exit', () => {
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
  });
  const origin = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => gateway.once('exit', (code) => resolve(code)));
  const probe = newClient(origin);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const outcome = await Promise.race([call(probe, { path: '/readyz', method: 'GET' }), exited.then((code) => ({ exitCode: code }))]);
      if ('exitCode' in outcome) throw new Error(`the gateway exited with ${String(outcome.exitCode)} at start-up; its log: ${fs.readFileSync(logPath, 'utf8')}`);
      if (outcome.status === 200) break;
      if (Date.now() > deadline) throw new Error(`the gateway was not ready within 30 s; its log: ${logPath}`);
      await sleep(100);
    }
  } finally {
    await probe.close();
  }
  return { simulators, gateway, gatewayPid: gateway.pid, origin, ready, tempDir, logPath };
}

/** The gateway's resident set size, from /proc/<pid>/status (VmRSS), in bytes. */
function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

class RssSampler {
  readonly samples: Array<{ atMs: number; rss: number }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number) {
    this.timer = setInterval(() => {
      const rss = rssOf(pid);
      if (rss !== null) this.samples.push({ atMs: performance.now(), rss });
    }, 250);
  }

  /** Median RSS over the `seconds` before `atMs`: one GC cycle's ups and downs do not decide it. */
  medianBefore(atMs: number, seconds: number): number {
    return percentile(
      this.samples.filter((sample) => sample.atMs <= atMs && sample.atMs >= atMs - seconds * 1000).map((sample) => sample.rss),
      0.5,
    );
  }

  peak(): number {
    return this.samples.reduce((a, b) => Math.max(a, b.rss), 0);
  }

  /** The peak of every `seconds` since the first sample, in MB: how RSS moved over the run. */
  timeline(seconds: number): string {
    const first = this.samples[0]?.atMs ?? 0;
    const peaks: number[] = [];
    for (const sample of this.samples) {
      const slot = Math.floor((sample.atMs - first) / (seconds * 1000));
      peaks[slot] = Math.max(peaks[slot] ?? 0, sample.rss);
    }
    return peaks.map((rss) => Math.round(rss / 1024 / 1024)).join(' ');
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CPU time (user + system) of a process so far, ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Busy CPU time of the whole host so far, ms, from /proc/stat (every core; clock ticks of 10 ms). */
function hostBusyMs(): number {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return NaN;
  }
}

/**
 * What a phase cost: CPU in cores (1.00 = one core busy all the time) of the gateway, the
 * simulators, the load clients and everything else on the host (which makes a run noisy), the
 * upstream requests a second, and the simulators' event-loop delay (how late they could answer).
 */
class PhaseMeter {
  private readonly startedAt = performance.now();
  private readonly gateway: number;
  private readonly simulatorsCpu: number;
  private readonly host = hostBusyMs();
  private readonly self = process.cpuUsage();
  private readonly requestsBefore: Promise<number>;

  constructor(private readonly processes: Pick<Processes, 'gatewayPid' | 'simulators'>) {
    this.gateway = cpuMsOf(processes.gatewayPid);
    this.simulatorsCpu = cpuMsOf(processes.simulators.pid ?? 0);
    this.requestsBefore = simulatorStats(processes.simulators).then(upstreamTotal);
  }

  async read(): Promise<{ text: string; upstream: string }> {
    const elapsed = performance.now() - this.startedAt;
    const self = process.cpuUsage(this.self);
    const gateway = cpuMsOf(this.processes.gatewayPid) - this.gateway;
    const simulators = cpuMsOf(this.processes.simulators.pid ?? 0) - this.simulatorsCpu;
    const clients = (self.user + self.system) / 1000;
    const other = Math.max(0, hostBusyMs() - this.host - gateway - simulators - clients);
    const stats = await simulatorStats(this.processes.simulators);
    const cores = (ms: number) => (ms / elapsed).toFixed(2);
    return {
      text: `gateway ${cores(gateway)}, simulators ${cores(simulators)}, load clients ${cores(clients)}, other processes ${cores(other)} (of ${os.cpus().length})`,
      upstream: `${Math.round(((upstreamTotal(stats) - (await this.requestsBefore)) * 1000) / elapsed)} req/s; simulators' event-loop delay p99 ${ms(stats.eventLoopDelayP99Ms)}, max ${ms(stats.eventLoopDelayMaxMs)}`,
    };
  }
}

function simulatorStats(simulators: ChildProcess): Promise<LoadtestSimulatorStats> {
  return ask<LoadtestSimulatorStats>(simulators, { type: 'stats' }, 'stats');
}

function upstreamTotal(stats: LoadtestSimulatorStats): number {
  return Object.values(stats.requests).reduce((a, b) => a + b, 0);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------
// Scenarios

async function warmUp(origin: string, sourceIds: readonly string[]): Promise<Knowledge> {
  const client = newClient(origin);
  try {
    const actions = new Set<string>();
    let newestMs = 0;
    let oldestMs = Infinity;
    for (const sourceId of sourceIds) {
      for (const direction of ['DESC', 'ASC']) {
        const outcome = await post(client, JSON.stringify({ query: `query ($filter: AuditEventFilter, $orderBy: AuditEventOrder) { auditEvents(first: 100, filter: $filter, orderBy: $orderBy) { nodes { action occurredAt } } }`, variables: { filter: { sources: [sourceId] }, orderBy: { direction } } }));
        const nodes = (outcome.json?.data?.['auditEvents'] as { nodes?: Array<{ action: string; occurredAt: string }> } | undefined)?.nodes;
        if (outcome.status !== 200 || outcome.codes.length > 0 || !nodes) throw new Error(`warm-up page of ${sourceId} failed: ${outcome.status} ${outcome.codes.join(', ')}`);
        for (const node of nodes) {
          actions.add(node.action);
          const at = Date.parse(node.occurredAt);
          newestMs = Math.max(newestMs, at);
          oldestMs = Math.min(oldestMs, at);
        }
      }
    }
    // Every operation of the mix once, so that graphql-jit has compiled each before the clock runs.
    const mixed = new MixedClient(client, { sourceCount: sourceIds.length, actions: [...actions], newestMs, oldestMs });
    for (let i = 0; i < 30; i++) await mixed.step();
    return { sourceCount: sourceIds.length, actions: [...actions], newestMs, oldestMs };
  } finally {
    await client.close();
  }
}

function reportMixed(scenario: string, result: MixedResult, withTargets: boolean): void {
  const { all } = result;
  figure(scenario, 'requests, req/s', `${int(all.count)}, ${(all.count / result.seconds).toFixed(0)} req/s`);
  figure(scenario, 'latency p50 / p95 / p99 / max', `${ms(all.p(0.5))} / ${ms(all.p(0.95))} / ${ms(all.p(0.99))} / ${ms(all.max())}`);
  figure(scenario, 'CPU in cores', result.cost.text);
  figure(scenario, 'upstream (simulators)', result.cost.upstream);
  if (withTargets) {
    target(scenario, 'errors by code', all.codesText(), '0 (none expected)', all.errorCount() === 0);
    target(scenario, '5xx responses', String(all.fiveXx()), '0', all.fiveXx() === 0);
    figure(scenario, `answered after ${CLIENT_DEADLINE_MS / 1000} s / not within ${GIVE_UP_MS / 1000} s`, `${all.latencies.filter((latency) => latency > CLIENT_DEADLINE_MS).length} / ${all.codes.get('NO_ANSWER') ?? 0}`);
  } else {
    figure(scenario, 'errors by code', all.codesText());
  }
}

function printOperations(title: string, result: MixedResult): void {
  console.log(`\n${title}: by operation`);
  console.log('| operation | requests | p50 | p95 | p99 | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const [operation, recorder] of result.byOperation) {
    console.log(`| ${operation} | ${int(recorder.count)} | ${ms(recorder.p(0.5))} | ${ms(recorder.p(0.95))} | ${ms(recorder.p(0.99))} | ${recorder.codesText()} |`);
  }
}

/**
 * L1 of RELIABILITY.md as written: 50 clients of first pages and traversals over three sources,
 * on a gateway of its own whose batch cache holds every client's batches
 * (PAGES_CACHE_MAX_EVENTS), warmed up by the same load before the measured phase.
 */
async function pagesScenario(): Promise<void> {
  const scenario = `7. L1 pages (${STEADY_CLIENTS} clients, ${STEADY_SECONDS} s, 3 sources, cache ${int(PAGES_CACHE_MAX_EVENTS)} events)`;
  const processes = await start(false, PAGES_CACHE_MAX_EVENTS);
  let result: MixedResult;
  try {
    const knowledge = await warmUp(processes.origin, processes.ready.simulators.map((simulator) => `${simulator.vendor}-load`));
    await mixedLoad(processes, knowledge, STEADY_CLIENTS, PAGES_WARM_SECONDS, PAGES);
    result = await mixedLoad(processes, knowledge, STEADY_CLIENTS, STEADY_SECONDS, PAGES);
    // L4 right after L1, so that it compares with L1 on a gateway in the same state.
    console.log(`9. L4 sick neighbours as written: ${SICK_ERRORING} ${SICK_ERROR_RATE * 100}% 503, ${SICK_SLOW} +${SLOW_LATENCY_MS} ms, ${PAGES_WARM_SECONDS} s + ${STEADY_SECONDS} s …`);
    await sickNeighbours(processes, knowledge, result);
    console.log(`8. L3 overload as written: ${STORM_CLIENTS} clients of the same pages, ${STEADY_SECONDS} s …`);
    await storm(processes, knowledge, { scenario: `8. L3 overload as written (${STORM_CLIENTS} clients of pages, ${STEADY_SECONDS} s)`, seconds: STEADY_SECONDS, load: PAGES, admittedP99Ms: 2_000 });
  } finally {
    await stop(processes);
  }
  figure(scenario, 'gateway', `its own, started for this scenario; ${PAGES_WARM_SECONDS} s of the same load before the measured phase`);
  const log = readGatewayLog(processes.logPath);
  target(scenario, 'gateway log lines at level error or above', String(log.errors.length), '0', log.errors.length === 0);
  if (log.errors.length === 0 && log.other.length === 0) fs.rmSync(processes.tempDir, { recursive: true, force: true });
  reportMixed(scenario, result, true);
  printOperations('7. L1 pages', result);
  const { all } = result;
  const rate = all.count / result.seconds;
  target(scenario, 'throughput', `${rate.toFixed(0)} req/s`, '>= 200 req/s', rate >= 200);
  target(scenario, 'latency p99', ms(all.p(0.99)), '<= 500 ms', all.p(0.99) <= 500);
}

interface StormShape {
  scenario: string;
  seconds: number;
  load: LoadShape;
  /** RELIABILITY's L3 bound on the admitted requests' p99, ms; a figure only when absent. */
  admittedP99Ms?: number;
}

/** L4 of RELIABILITY.md as written: two sources the pages of L1 never read fall sick. */
const SICK_ERRORING = 'port';
const SICK_ERROR_RATE = 0.3;
const SICK_SLOW = 'agilicus';
/** Of the 50 clients, those whose merged pages read every source, the sick ones included. */
const SICK_MERGED_CLIENTS = 10;

/** Logical upstream calls of one source so far (a call and its retries count once), from the gateway's /metrics. */
async function logicalCalls(origin: string, sourceId: string): Promise<number> {
  const client = newClient(origin);
  try {
    const response = await client.request({ path: '/metrics', method: 'GET' });
    const text = await response.body.text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('audit_gateway_upstream_calls_total{') && line.includes(`source="${sourceId}"`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  } finally {
    await client.close();
  }
}

/**
 * L4 as written: one source answers 30 % of its requests with 503, another answers after 2 s,
 * while 40 clients send the pages of L1 (which read neither) and 10 send merged pages that read
 * every source. The pages keep their p99 within 20 % of L1's, and the sick source's retries add
 * at most 20 % to its traffic: upstream requests it received against the gateway's logical calls
 * to it (`audit_gateway_upstream_calls_total`, where a call and its retries count once).
 *
 * L1's p99 is measured after PAGES_WARM_SECONDS of its own load, so L4's is too: its clients run
 * that long before the measured part, unrecorded but for errors. Without it the two would not be
 * alike: L4's first seconds hold 50 new connections, fresh traversals and the first merged pages
 * over two sources L1 never read, and in a 30 s run more than half of the pages in L4's top 1 %
 * fell in its first two seconds. Their p99 is printed as a figure.
 */
async function sickNeighbours(processes: Processes, knowledge: Knowledge, l1: MixedResult): Promise<void> {
  const { origin, simulators } = processes;
  const pagesClients = STEADY_CLIENTS - SICK_MERGED_CLIENTS;
  const scenario = `9. L4 sick neighbours as written (${SICK_ERRORING} ${SICK_ERROR_RATE * 100}% 503, ${SICK_SLOW} +${SLOW_LATENCY_MS / 1000} s; ${pagesClients} clients of pages, ${SICK_MERGED_CLIENTS} of merged pages, ${PAGES_WARM_SECONDS} s + ${STEADY_SECONDS} s measured)`;
  const erroringId = `${SICK_ERRORING}-load`;
  const sickIds = new Set([erroringId, `${SICK_SLOW}-load`]);
  const pages = new Recorder();
  const warming = new Recorder();
  const merged = new Recorder();
  let mergedOther = 0;
  const callsBefore = await logicalCalls(origin, erroringId);
  const before = await simulatorStats(simulators);
  await setLatency(simulators, { vendor: SICK_ERRORING, latencyMs: 0, errorRate: SICK_ERROR_RATE });
  await setLatency(simulators, { vendor: SICK_SLOW, latencyMs: SLOW_LATENCY_MS });
  const measuredFrom = performance.now() + PAGES_WARM_SECONDS * 1000;
  const meter = sleep(PAGES_WARM_SECONDS * 1000).then(() => new PhaseMeter(processes));
  try {
    await runClients(origin, STEADY_CLIENTS, PAGES_WARM_SECONDS + STEADY_SECONDS, async (http, index, until) => {
      const client = new MixedClient(http, knowledge, PAGES);
      while (performance.now() < until) {
        if (index < SICK_MERGED_CLIENTS) {
          const outcome = await post(http, body(PAGE, { first: 50 }));
          merged.add(outcome);
          // A merged page is whole, or partial with errors of the sick sources alone.
          if (outcome.status !== 200 || !pageOf(outcome) || outcome.errorSources.length !== outcome.codes.length || outcome.errorSources.some((source) => !sickIds.has(source))) mergedOther += 1;
          continue;
        }
        const sentAt = performance.now();
        const { outcome, unexpected } = await client.step();
        const recorder = sentAt >= measuredFrom ? pages : warming;
        recorder.add(outcome);
        for (const code of unexpected) recorder.addCode(code);
      }
    });
  } finally {
    await setLatency(simulators, { latencyMs: 0 });
  }
  const cost = await (await meter).read();
  const after = await simulatorStats(simulators);
  const logical = (await logicalCalls(origin, erroringId)) - callsBefore;
  const received = (after.requests[SICK_ERRORING] ?? 0) - (before.requests[SICK_ERRORING] ?? 0);
  const added = logical > 0 ? received / logical - 1 : NaN;

  const ratio = pages.p(0.99) / l1.all.p(0.99);
  figure(scenario, 'CPU in cores', cost.text);
  figure(scenario, 'upstream (simulators)', cost.upstream);
  target(scenario, 'pages (reading neither sick source): errors, warm-up included', `${pages.codesText()}; warm-up ${warming.codesText()}`, '0', pages.count > 0 && pages.errorCount() === 0 && warming.errorCount() === 0);
  figure(scenario, `pages in the first ${PAGES_WARM_SECONDS} s (warm-up, as L1 has): p50 / p99`, `${ms(warming.p(0.5))} / ${ms(warming.p(0.99))} (${int(warming.count)} requests)`);
  target(scenario, 'pages: p50 / p99, against L1', `${ms(pages.p(0.5))} / ${ms(pages.p(0.99))} (${int(pages.count)} requests), L1 p99 ${ms(l1.all.p(0.99))}: ${ratio.toFixed(2)}x`, 'p99 <= 1.2x L1', ratio <= 1.2);
  target(scenario, 'merged pages: whole, or partial with the sick sources\' errors alone', `${int(merged.count)} (p50 ${ms(merged.p(0.5))}, max ${ms(merged.max())}; ${merged.codesText()}), other ${mergedOther}`, 'other = 0', merged.count > 0 && mergedOther === 0);
  target(scenario, `${SICK_ERRORING}: upstream requests received / logical calls (retries added)`, `${int(received)} / ${int(logical)} (${Number.isNaN(added) ? 'n/a' : signedPercent(added)})`, 'retries add <= 20%', logical > 0 && added <= 0.2);
}

async function storm(processes: Processes, knowledge: Knowledge, shape: StormShape = { scenario: `2. shedding (${STORM_CLIENTS} clients, ${STORM_SECONDS} s)`, seconds: STORM_SECONDS, load: MIXED }): Promise<void> {
  const { origin } = processes;
  const meter = new PhaseMeter(processes);
  const { scenario } = shape;
  const admitted = new Recorder();
  const shed = new Recorder();
  const other = new Recorder();
  const all = new Recorder();
  let shedWithoutRetryAfter = 0;
  let admittedUnexpected = 0;
  const health = new Recorder();
  let storming = true;

  const prober = (async () => {
    const client = newClient(origin);
    try {
      while (storming) {
        health.add(await call(client, { path: '/healthz', method: 'GET' }));
        await sleep(100);
      }
    } finally {
      await client.close();
    }
  })();

  const started = performance.now();
  await runClients(origin, STORM_CLIENTS, shape.seconds, async (http, _index, until) => {
    const client = new MixedClient(http, knowledge, shape.load);
    while (performance.now() < until) {
      const { outcome, unexpected } = await client.step();
      all.add(outcome);
      if (outcome.status === 503 && outcome.codes.length === 1 && outcome.codes[0] === 'OVERLOADED') {
        shed.add(outcome);
        if (outcome.retryAfter === null || !(Number(outcome.retryAfter) >= 1)) shedWithoutRetryAfter += 1;
        // An impatient client: back after 0 to 100 ms, not the second Retry-After asks for, so that the bulkhead stays full.
        await sleep(Math.random() * 100);
      } else if (outcome.status === 200) {
        admitted.add(outcome);
        for (const code of unexpected) admitted.addCode(code);
        if (outcome.codes.length > 0 || unexpected.length > 0) admittedUnexpected += 1;
      } else {
        other.add(outcome);
      }
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const cost = await meter.read();
  storming = false;
  await prober;

  const recovery = newClient(origin);
  const after = await post(recovery, body(PAGE, { first: 50, ...(shape.load.pageSources ? { filter: { sources: shape.load.pageSources } } : {}) }));
  await recovery.close();

  figure(scenario, 'requests, req/s', `${int(all.count)}, ${(all.count / seconds).toFixed(0)} req/s (admitted ${(admitted.count / seconds).toFixed(0)} req/s)`);
  figure(scenario, 'CPU in cores', cost.text);
  figure(scenario, 'upstream (simulators)', cost.upstream);
  target(scenario, 'shed: 503 OVERLOADED', `${int(shed.count)} (${((100 * shed.count) / Math.max(1, all.count)).toFixed(0)}% of requests)`, '> 0 (the bulkhead acts)', shed.count > 0);
  target(scenario, 'shed without Retry-After >= 1', String(shedWithoutRetryAfter), '0', shedWithoutRetryAfter === 0);
  target(scenario, 'shed latency p50 / p99 / max', `${ms(shed.p(0.5))} / ${ms(shed.p(0.99))} / ${ms(shed.max())}`, 'p99 < 50 ms', shed.count > 0 && shed.p(0.99) < 50);
  target(scenario, 'admitted: answered / with errors', `${int(admitted.count)} / ${admittedUnexpected} (${admitted.codesText()})`, 'all succeed', admitted.count > 0 && admittedUnexpected === 0);
  const admittedLatency = `${ms(admitted.p(0.5))} / ${ms(admitted.p(0.99))} / ${ms(admitted.max())}`;
  if (shape.admittedP99Ms === undefined) figure(scenario, 'admitted latency p50 / p99 / max', admittedLatency);
  else target(scenario, 'admitted latency p50 / p99 / max', admittedLatency, `p99 <= ${shape.admittedP99Ms} ms`, admitted.count > 0 && admitted.p(0.99) <= shape.admittedP99Ms);
  target(scenario, 'other answers (not 200, not 503 OVERLOADED)', other.count === 0 ? '0' : `${other.count} (${other.codesText()})`, '0', other.count === 0);
  const late = all.latencies.filter((latency) => latency > CLIENT_DEADLINE_MS).length;
  const noAnswer = all.codes.get('NO_ANSWER') ?? 0;
  target(
    scenario,
    `answered after ${CLIENT_DEADLINE_MS / 1000} s (the gateway's deadline + 5 s) / not within ${GIVE_UP_MS / 1000} s; slowest`,
    `${late} / ${noAnswer}; ${ms(all.max())}`,
    '0 / 0',
    late === 0 && noAnswer === 0,
  );
  const healthOk = health.statuses.get(200) ?? 0;
  target(scenario, '/healthz during the storm: 200s, p50 / max', `${healthOk}/${health.count}, ${ms(health.p(0.5))} / ${ms(health.max())}`, 'all 200, max < 1 s', health.count > 0 && healthOk === health.count && health.max() < 1000);
  target(scenario, 'first page right after the storm', `${after.status}${after.codes.length ? ` ${after.codes.join(', ')}` : ''}, ${ms(after.ms)}`, '200, no error', after.status === 200 && after.codes.length === 0);
}

/** Over-cost clients of the abuse scenario, and clients of the mix beside them. */
const ABUSE_CLIENTS = 50;
const ABUSE_WATCHERS = 10;
const ABUSE_SECONDS = Math.max(5, Math.round(STEADY_SECONDS / 6));
/** Twice 100 events with each actor's 100 events: a cost above 20,000 against a maximum of 10,000, within the depth limit. */
const OVER_COST = `{ a: auditEvents(first: 100) { nodes { actor { node { events(first: 100) { nodes { id } } } } } } b: auditEvents(first: 100) { nodes { target { node { events(first: 100) { nodes { id } } } } } } }`;

/**
 * Abuse (6): ABUSE_CLIENTS clients sending only an operation far over `maxCost`, as fast as they
 * are answered. Alone they must be refused (400 COST_LIMIT) without one upstream request; beside
 * ABUSE_WATCHERS clients of the mix, those keep their latency (compared with the same clients
 * alone just before).
 */
async function abuse(processes: Processes, knowledge: Knowledge): Promise<void> {
  const { origin, simulators } = processes;
  const scenario = `6. abuse (${ABUSE_CLIENTS} over-cost clients, ${ABUSE_WATCHERS} of the mix, ${ABUSE_SECONDS} s a phase)`;
  const overCost = body(OVER_COST);
  const refused = new Recorder();
  let otherAnswers = 0;
  const abusers = (seconds: number) =>
    runClients(origin, ABUSE_CLIENTS, seconds, async (http, _index, until) => {
      while (performance.now() < until) {
        const outcome = await post(http, overCost);
        refused.add(outcome);
        if (!(outcome.status === 400 && outcome.codes.length === 1 && outcome.codes[0] === 'BAD_USER_INPUT' && outcome.json?.errors?.[0]?.extensions !== undefined && JSON.stringify(outcome.json.errors[0].extensions).includes('COST_LIMIT'))) otherAnswers += 1;
      }
    });

  const baseline = await mixedLoad(processes, knowledge, ABUSE_WATCHERS, ABUSE_SECONDS);
  const before = upstreamTotal(await simulatorStats(simulators));
  const aloneStarted = performance.now();
  await abusers(ABUSE_SECONDS);
  const aloneSeconds = (performance.now() - aloneStarted) / 1000;
  const upstreamWhileAlone = upstreamTotal(await simulatorStats(simulators)) - before;
  const refusedAlone = refused.count;
  const [beside] = await Promise.all([mixedLoad(processes, knowledge, ABUSE_WATCHERS, ABUSE_SECONDS), abusers(ABUSE_SECONDS)]);

  target(scenario, 'over-cost operations refused with 400 COST_LIMIT / other answers', `${int(refused.count)} / ${otherAnswers}`, 'all refused', refused.count > 0 && otherAnswers === 0);
  target(scenario, 'upstream requests while only over-cost clients send', `${upstreamWhileAlone} (${int(refusedAlone)} refusals in ${aloneSeconds.toFixed(1)} s, ${(refusedAlone / aloneSeconds).toFixed(0)} a second)`, '0', upstreamWhileAlone === 0);
  figure(scenario, 'refusal latency p50 / p99', `${ms(refused.p(0.5))} / ${ms(refused.p(0.99))}`);
  const ratio = beside.all.p(0.99) / baseline.all.p(0.99);
  target(
    scenario,
    `the ${ABUSE_WATCHERS} clients of the mix: p50 / p99 alone, then beside the over-cost clients`,
    `${ms(baseline.all.p(0.5))} / ${ms(baseline.all.p(0.99))}, then ${ms(beside.all.p(0.5))} / ${ms(beside.all.p(0.99))}: p99 ${ratio.toFixed(2)}x`,
    'p99 <= 2x alone',
    ratio <= 2,
  );
  target(scenario, `the ${ABUSE_WATCHERS} clients of the mix: errors alone / beside`, `${baseline.all.codesText()} / ${beside.all.codesText()}`, 'none', baseline.all.errorCount() === 0 && beside.all.errorCount() === 0);
  figure(scenario, 'CPU in cores, beside', beside.cost.text);
}

async function slowSource(processes: Processes): Promise<void> {
  const { origin, simulators, ready } = processes;
  const slowId = `${SLOW_VENDOR}-load`;
  if (!ready.simulators.some((simulator) => simulator.vendor === SLOW_VENDOR)) throw new Error(`no simulator of vendor '${SLOW_VENDOR}'`);
  const others = ready.simulators.filter((simulator) => simulator.vendor !== SLOW_VENDOR).map((simulator) => `${simulator.vendor}-load`);
  const scenario = `3. slow source (${SLOW_VENDOR} +${SLOW_LATENCY_MS / 1000} s; ${SLOW_CLIENTS_EACH}+${SLOW_CLIENTS_EACH} clients, ${SLOW_SECONDS} s a phase)`;
  const restrictedBody = body(PAGE, { first: 50, filter: { sources: others } });
  const mergedBody = body(PAGE, { first: 50 });

  const phase = async () => {
    const restricted = new Recorder();
    const merged = new Recorder();
    let mergedComplete = 0;
    /** Partial pages (the other sources' events, the slow one FAILED), by the slow source's error code. */
    const mergedPartial = new Map<string, number>();
    let mergedBad = 0;
    const badExamples: string[] = [];
    const meter = new PhaseMeter(processes);
    await runClients(origin, SLOW_CLIENTS_EACH * 2, SLOW_SECONDS, async (http, index, until) => {
      const isMerged = index % 2 === 1;
      while (performance.now() < until) {
        const outcome = await post(http, isMerged ? mergedBody : restrictedBody);
        const page = pageOf(outcome);
        if (!isMerged) {
          restricted.add(outcome);
          if (outcome.status === 200 && !page) restricted.addCode('NO_DATA');
          continue;
        }
        merged.add(outcome);
        const fromOthers = page?.nodes.filter((node) => node.source.sourceId !== slowId).length ?? 0;
        if (outcome.status === 200 && page && outcome.codes.length === 0) mergedComplete += 1;
        else if (
          outcome.status === 200 &&
          page &&
          fromOthers > 0 &&
          outcome.codes.length > 0 &&
          outcome.codes.every((code) => CLEAN_FAILURES.has(code)) &&
          outcome.errorSources.length === outcome.codes.length &&
          outcome.errorSources.every((source) => source === slowId) &&
          page.sourceStatuses.some((status) => status.source.sourceId === slowId && status.status === 'FAILED')
        ) {
          for (const code of new Set(outcome.codes)) mergedPartial.set(code, (mergedPartial.get(code) ?? 0) + 1);
        }
        else {
          mergedBad += 1;
          if (badExamples.length < 3) badExamples.push(`${outcome.status} ${outcome.codes.join('+') || 'no error'} from ${outcome.errorSources.join('+') || '-'}, ${fromOthers} events of other sources`);
        }
      }
    });
    return { restricted, merged, mergedComplete, mergedPartial, mergedBad, badExamples, cost: await meter.read() };
  };

  const baseline = await phase();
  await setLatency(simulators, { vendor: SLOW_VENDOR, latencyMs: SLOW_LATENCY_MS });
  const slowed = await phase().finally(() => setLatency(simulators, { latencyMs: 0 }));

  const ratio = slowed.restricted.p(0.5) / baseline.restricted.p(0.5);
  figure(scenario, `restricted to the other ${others.length}: baseline p50 / p99`, `${ms(baseline.restricted.p(0.5))} / ${ms(baseline.restricted.p(0.99))} (${int(baseline.restricted.count)} requests)`);
  target(
    scenario,
    `restricted to the other ${others.length}: p50 / p99 while ${SLOW_VENDOR} is slow`,
    `${ms(slowed.restricted.p(0.5))} / ${ms(slowed.restricted.p(0.99))} (${int(slowed.restricted.count)} requests): ${ratio.toFixed(2)}x baseline p50`,
    'p50 <= 1.2x baseline',
    ratio <= 1.2,
  );
  target(scenario, 'restricted: errors (both phases)', `${baseline.restricted.codesText()}; ${slowed.restricted.codesText()}`, '0', baseline.restricted.errorCount() + slowed.restricted.errorCount() === 0);
  figure(scenario, 'CPU in cores, baseline / slow', `${baseline.cost.text} / ${slowed.cost.text}`);
  figure(scenario, 'merged, baseline: p50 / p99, errors', `${ms(baseline.merged.p(0.5))} / ${ms(baseline.merged.p(0.99))}, ${baseline.merged.codesText()}`);
  target(
    scenario,
    `merged while ${SLOW_VENDOR} is slow: complete / partial (the slow source's error) / other`,
    `${slowed.mergedComplete} / ${[...slowed.mergedPartial].map(([code, count]) => `${count} ${code}`).join(' + ') || '0'} / ${slowed.mergedBad}${slowed.badExamples.length ? ` (${slowed.badExamples.join('; ')})` : ''}`,
    'other = 0',
    slowed.merged.count > 0 && slowed.mergedBad === 0 && baseline.mergedBad === 0,
  );
  target(
    scenario,
    `merged while ${SLOW_VENDOR} is slow: p50 / max`,
    `${ms(slowed.merged.p(0.5))} / ${ms(slowed.merged.max())}`,
    `max < ${REQUEST_TIMEOUT_MS / 1000} s (request deadline)`,
    slowed.merged.count > 0 && slowed.merged.max() < REQUEST_TIMEOUT_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// Soak (L2)

/** Length and clients of the soak (SOAK_SECONDS, default 600; SOAK_CLIENTS, default 20). */
const SOAK_SECONDS = Number(process.env['SOAK_SECONDS'] ?? 600);
const SOAK_CLIENTS = Number(process.env['SOAK_CLIENTS'] ?? 20);
/** SOAK_LOAD=pages: the soak's clients send the pages of scenario "pages" (L2 as written) instead of the mix. */
const SOAK_PAGES = process.env['SOAK_LOAD'] === 'pages';
/** Each sample forces a full GC in the gateway (a pause, and a smaller heap after it): no more often than this. */
const SOAK_SAMPLE_SECONDS = 10;
/** "Never above the pool" is a maximum, which samples 10 s apart would mostly miss; counting sockets costs the gateway nothing. */
const SOAK_SOCKET_CHECK_MS = 1_000;
/** The end of the warm-up the end is compared with: minute 2 of 10, the same fifth of a shorter soak. */
const SOAK_WARM_SECONDS = SOAK_SECONDS / 5;
/** Figures at a moment are medians over this much before it, so that one GC cycle's ups and downs do not decide them. */
const SOAK_WINDOW_SECONDS = Math.max(SOAK_SAMPLE_SECONDS, Math.min(30, SOAK_WARM_SECONDS / 2));
const SOAK_RSS_LIMIT_BYTES = 300 * 1024 * 1024;
const SOAK_RSS_GROWTH = 0.1;
const SOAK_HEAP_DRIFT = 0.2;

interface SoakSample {
  /** Seconds into the soak, nominal (the n-th sample is due at n × SOAK_SAMPLE_SECONDS); 0 is just before the load. */
  atS: number;
  /** VmRSS read before the forced GC, as the gateway holds it in its own course. */
  rss: number;
  memory: SoakMemoryReply | null;
  /** Established connections to each source's simulator, by source id. */
  upstream: Map<string, number>;
  /** Every socket fd of the gateway (upstream, load clients', listening, IPC): what `ls -l /proc/<pid>/fd | grep -c socket` shows. */
  socketFds: number;
}

/** Each source's simulator port and pool size, as the gateway reads them from the config it was given (defaults applied). */
function soakSources(processes: Processes): Array<{ id: string; port: number; poolSize: number }> {
  const document = parseYaml(fs.readFileSync(path.join(processes.tempDir, 'config.yaml'), 'utf8')) as { sources: Array<Record<string, unknown>> };
  return document.sources.map((raw) => {
    const source = sourceConfig(raw);
    const url = new URL(source.baseUrl);
    return { id: source.id, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), poolSize: source.maxConnections };
  });
}

async function soakScenario(processes: Processes, knowledge: Knowledge, sampler: RssSampler): Promise<void> {
  const { gatewayPid: pid } = processes;
  const scenario = `5. soak (${SOAK_CLIENTS} clients${SOAK_PAGES ? ' of pages over 3 sources' : ''}, ${SOAK_SECONDS} s)`;
  const sources = soakSources(processes);
  const upstreamNow = (inodes: ReadonlySet<string>): Map<string, number> => {
    const byPort = establishedTo(inodes, sources.map((source) => source.port));
    return new Map(sources.map((source) => [source.id, byPort.get(source.port) ?? 0]));
  };
  const mostSockets = new Map<string, number>(sources.map((source) => [source.id, 0]));
  const note = (upstream: ReadonlyMap<string, number>) => {
    for (const [id, count] of upstream) mostSockets.set(id, Math.max(mostSockets.get(id) ?? 0, count));
  };
  const samples: SoakSample[] = [];
  const take = async (atS: number): Promise<void> => {
    const rss = rssOf(pid) ?? NaN;
    const inodes = socketInodes(pid);
    const upstream = upstreamNow(inodes);
    note(upstream);
    samples.push({ atS, rss, memory: await memoryAfterGc(processes.gateway), upstream, socketFds: inodes.size });
  };

  await take(0);
  const started = performance.now();
  const socketCheck = setInterval(() => note(upstreamNow(socketInodes(pid))), SOAK_SOCKET_CHECK_MS);
  const stopSampling = new AbortController();
  const sampling = (async () => {
    // The last sample is due at SOAK_SECONDS, when the clients stop sending: every sample is one under load.
    for (let n = 1; n * SOAK_SAMPLE_SECONDS <= SOAK_SECONDS; n++) {
      try {
        await sleep(started + n * SOAK_SAMPLE_SECONDS * 1000 - performance.now(), undefined, { signal: stopSampling.signal });
      } catch {
        return;
      }
      await take(n * SOAK_SAMPLE_SECONDS);
    }
  })();
  let result: MixedResult;
  try {
    result = await mixedLoad(processes, knowledge, SOAK_CLIENTS, SOAK_SECONDS, SOAK_PAGES ? PAGES : MIXED);
  } catch (error) {
    stopSampling.abort();
    throw error;
  } finally {
    await sampling;
    clearInterval(socketCheck);
  }
  const ended = performance.now();
  printSoakSeries(samples);

  reportMixed(scenario, result, false);
  figure(scenario, '5xx responses', String(result.all.fiveXx()));

  const duringSoak = sampler.samples.filter((sample) => sample.atMs >= started && sample.atMs <= ended);
  const peak = duringSoak.reduce((a, b) => Math.max(a, b.rss), 0);
  target(scenario, 'gateway RSS, peak (VmRSS every 250 ms)', duringSoak.length ? mb(peak) : 'n/a', `<= ${mb(SOAK_RSS_LIMIT_BYTES)}`, duringSoak.length > 0 && peak <= SOAK_RSS_LIMIT_BYTES);

  const warmAtMs = started + SOAK_WARM_SECONDS * 1000;
  const rssWarm = sampler.medianBefore(warmAtMs, SOAK_WINDOW_SECONDS);
  const rssEnd = sampler.medianBefore(ended, SOAK_WINDOW_SECONDS);
  const rssGrowth = (rssEnd - rssWarm) / rssWarm;
  target(
    scenario,
    `gateway RSS at ${SOAK_WARM_SECONDS} s -> at the end (medians of the ${SOAK_WINDOW_SECONDS} s before each)`,
    `${mb(rssWarm)} -> ${mb(rssEnd)}, ${signedPercent(rssGrowth)}`,
    `growth <= ${SOAK_RSS_GROWTH * 100}%`,
    rssGrowth <= SOAK_RSS_GROWTH,
  );

  const heapNear = (atS: number): number => {
    const measured = samples.filter((sample) => sample.atS > 0 && sample.memory !== null && sample.atS <= atS);
    const inWindow = measured.filter((sample) => sample.atS >= atS - SOAK_WINDOW_SECONDS);
    const chosen = inWindow.length > 0 ? inWindow : measured.slice(-1);
    return percentile(chosen.map((sample) => sample.memory!.heapUsed), 0.5);
  };
  const heapWarm = heapNear(SOAK_WARM_SECONDS);
  const heapEnd = heapNear(SOAK_SECONDS);
  const heapDrift = (heapEnd - heapWarm) / heapWarm;
  target(
    scenario,
    `V8 heap used after a full GC at ${SOAK_WARM_SECONDS} s -> at the end (medians of the samples of the ${SOAK_WINDOW_SECONDS} s up to each)`,
    `${mb(heapWarm)} -> ${mb(heapEnd)}, ${signedPercent(heapDrift)}`,
    `within ${SOAK_HEAP_DRIFT * 100}%`,
    Math.abs(heapDrift) <= SOAK_HEAP_DRIFT,
  );
  const gcMs = samples.flatMap((sample) => (sample.memory ? [sample.memory.gcMs] : []));
  const missing = samples.filter((sample) => sample.memory === null).length;
  figure(scenario, 'forced full GC in the gateway: pause p50 / max; samples without an answer', `${ms(percentile(gcMs, 0.5))} / ${ms(gcMs.reduce((a, b) => Math.max(a, b), 0))}; ${missing} of ${samples.length}`);

  const over = sources.filter((source) => (mostSockets.get(source.id) ?? 0) > source.poolSize);
  target(
    scenario,
    `established upstream sockets, most at once per source (counted every ${SOAK_SOCKET_CHECK_MS / 1000} s)`,
    sources.map((source) => `${source.id} ${mostSockets.get(source.id) ?? 0}`).join(', '),
    `<= the source's pool (maxConnections: ${[...new Set(sources.map((source) => source.poolSize))].join(' / ')})`,
    over.length === 0 && samples.length > 0,
  );
}

const signedPercent = (ratio: number) => (Number.isNaN(ratio) ? 'n/a' : `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)}%`);

/** The soak's samples, a line a minute: how the figures moved, beyond the two moments the targets compare. */
function printSoakSeries(samples: readonly SoakSample[]): void {
  const mbOf = (bytes: number | undefined) => (bytes === undefined || Number.isNaN(bytes) ? '?' : String(Math.round(bytes / 1024 / 1024)));
  const upstreamTotal = (sample: SoakSample) => [...sample.upstream.values()].reduce((a, b) => a + b, 0);
  const upstreamMost = (sample: SoakSample) => [...sample.upstream.values()].reduce((a, b) => Math.max(a, b), 0);
  const minutes = new Map<string, SoakSample[]>();
  for (const sample of samples) {
    const key = sample.atS === 0 ? 'start' : String(Math.ceil(sample.atS / 60));
    minutes.set(key, [...(minutes.get(key) ?? []), sample]);
  }
  console.log(`\n5. soak: a sample every ${SOAK_SAMPLE_SECONDS} s, a line a minute (MB; sockets: upstream established, all sources / most of one source)`);
  console.log('| minute | gateway RSS | heap used after full GC | external after GC | upstream sockets | gateway socket fds |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [minute, group] of minutes) {
    const column = (value: (sample: SoakSample) => string) => group.map(value).join(' ');
    console.log(
      `| ${minute} | ${column((sample) => mbOf(sample.rss))} | ${column((sample) => mbOf(sample.memory?.heapUsed))} | ${column((sample) => mbOf(sample.memory?.external))} | ${column((sample) => `${upstreamTotal(sample)}/${upstreamMost(sample)}`)} | ${column((sample) => String(sample.socketFds))} |`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

async function stop(processes: Processes): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (processes.gateway.exitCode !== null) resolve();
    else processes.gateway.once('exit', () => resolve());
  });
  processes.gateway.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (processes.gateway.exitCode === null) processes.gateway.kill('SIGKILL');
  processes.simulators.kill('SIGTERM');
}

/** The gateway's log: error-level lines (pino level >= 50), warnings by message, and what was not a log line (Node's own warnings). */
function readGatewayLog(logPath: string): { errors: string[]; warnings: Map<string, number>; other: string[] } {
  const errors: string[] = [];
  const warnings = new Map<string, number>();
  const other: string[] = [];
  for (const line of fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean)) {
    let entry: { level?: number; msg?: string; code?: string; source?: string } | null = null;
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string; code?: string; source?: string };
    } catch {
      other.push(line);
      continue;
    }
    if ((entry.level ?? 0) >= 50) errors.push(line);
    else if (entry.level === 40) {
      const key = `${entry.msg ?? '?'}${entry.source ? ` ${entry.source}` : ''}${entry.code ? ` ${entry.code}` : ''}`;
      warnings.set(key, (warnings.get(key) ?? 0) + 1);
    }
  }
  return { errors, warnings, other };
}

async function main(): Promise<void> {
  const processes = await start(SCENARIOS.has('soak'));
  const sampler = new RssSampler(processes.gatewayPid);
  const sourceIds = processes.ready.simulators.map((simulator) => `${simulator.vendor}-load`);
  console.log(
    `loadtest: gateway pid ${processes.gatewayPid} at ${processes.origin} (NODE_ENV=production, config ${path.join(processes.tempDir, 'config.yaml')}), ` +
      `${sourceIds.length} simulators of ${processes.ready.size} events; steady ${STEADY_SECONDS} s x2, storm ${STORM_SECONDS} s, slow source ${SLOW_SECONDS} s x2${SCENARIOS.has('soak') ? `, soak ${SOAK_SECONDS} s` : ''}`,
  );
  let failed = true;
  const rssAtStart = rssOf(processes.gatewayPid) ?? NaN;
  try {
    const knowledge = await warmUp(processes.origin, sourceIds);
    figure('4. memory (phase 2 = steady again)', 'gateway RSS when ready / after the warm-up (10 first pages, 30 requests of the mix)', `${mb(rssAtStart)} / ${mb(rssOf(processes.gatewayPid) ?? NaN)}`);
    console.log(`warm-up: ${knowledge.actions.length} actions seen, events from ${new Date(knowledge.oldestMs).toISOString()} to ${new Date(knowledge.newestMs).toISOString()}`);

    const memory = `4. memory (phase 2 = steady again)`;
    if (SCENARIOS.has('steady')) {
      console.log(`1. steady mixed load: ${STEADY_CLIENTS} clients, ${STEADY_SECONDS} s …`);
      const steady = await mixedLoad(processes, knowledge, STEADY_CLIENTS, STEADY_SECONDS);
      const endOfPhase1 = performance.now();
      reportMixed(`1. steady (${STEADY_CLIENTS} clients, ${STEADY_SECONDS} s)`, steady, true);
      printOperations('1. steady', steady);

      console.log(`4. memory: the same load again, ${STEADY_SECONDS} s …`);
      const second = await mixedLoad(processes, knowledge, STEADY_CLIENTS, STEADY_SECONDS);
      const endOfPhase2 = performance.now();
      // Half a phase: RSS swings by a third between collections under this load, so a few seconds' median says more about the collector's timing than about growth.
      const window = STEADY_SECONDS / 2;
      const rss1 = sampler.medianBefore(endOfPhase1, window);
      const rss2 = sampler.medianBefore(endOfPhase2, window);
      const growth = (rss2 - rss1) / rss1;
      reportMixed(memory, second, true);
      figure(memory, `gateway RSS at the end of phase 1 (median of its last ${window} s)`, mb(rss1));
      target(memory, `gateway RSS at the end of phase 2, growth`, `${mb(rss2)}, ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%`, 'growth <= 10%', growth <= 0.1);
    }

    if (SCENARIOS.has('storm')) {
      console.log(`2. shedding: ${STORM_CLIENTS} clients, ${STORM_SECONDS} s …`);
      await storm(processes, knowledge);
    }

    if (SCENARIOS.has('slow')) {
      console.log(`3. slow source: ${SLOW_VENDOR} +${SLOW_LATENCY_MS} ms, ${SLOW_SECONDS} s baseline then ${SLOW_SECONDS} s slow …`);
      await slowSource(processes);
    }

    if (SCENARIOS.has('abuse')) {
      console.log(`6. abuse: ${ABUSE_CLIENTS} over-cost clients, ${ABUSE_WATCHERS} clients of the mix, ${ABUSE_SECONDS} s a phase …`);
      await abuse(processes, knowledge);
    }

    if (SCENARIOS.has('soak')) {
      console.log(`5. soak: ${SOAK_CLIENTS} clients, ${SOAK_SECONDS} s, sampled every ${SOAK_SAMPLE_SECONDS} s …`);
      await soakScenario(processes, knowledge, sampler);
    }

    figure(memory, 'gateway peak RSS over the whole run', mb(sampler.peak()));
    if (SCENARIOS.has('pages')) {
      console.log(`7. L1 pages: a gateway of its own, ${STEADY_CLIENTS} clients, ${PAGES_WARM_SECONDS} s + ${STEADY_SECONDS} s, first: 50 over ${PAGES_VENDORS.join(', ')} …`);
      await pagesScenario();
    }
    console.log(`gateway RSS, peak of every 10 s of the run, MB: ${sampler.timeline(10)}`);
    failed = false;
  } finally {
    sampler.stop();
    await stop(processes);
  }

  const log = readGatewayLog(processes.logPath);
  const cell = (text: string) => text.slice(0, 300).replace(/\|/g, '\\|');
  target('all', 'gateway log lines at level error or above', log.errors.length === 0 ? '0' : `${log.errors.length}, first: ${cell(log.errors[0]!)}`, '0', log.errors.length === 0);
  figure('all', 'gateway log warnings', log.warnings.size === 0 ? 'none' : [...log.warnings].map(([message, count]) => `${message} ${count}`).join(', '));
  const nodeWarnings = log.other.filter((line) => /^\(node:\d+\)/.test(line));
  if (log.other.length > 0) figure('all', 'gateway stderr besides the log', `${nodeWarnings.length} Node warning(s), first: ${cell(nodeWarnings[0] ?? log.other[0]!)} (the stack is in the kept log)`);

  const order = (row: Row) => (row.scenario === 'all' ? 9 : Number(row.scenario[0]));
  const sorted = [...rows].sort((a, b) => order(a) - order(b));
  console.log('\n| scenario | measure | figure | target | |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of sorted) console.log(`| ${row.scenario} | ${row.measure} | ${row.figure} | ${row.target || '–'} | ${row.met === null ? '' : row.met ? 'met' : '**NOT MET**'} |`);
  const notMet = rows.filter((row) => row.met === false);
  console.log(`\n${notMet.length === 0 ? 'every target met' : `${notMet.length} target(s) NOT MET: ${notMet.map((row) => `${row.scenario}: ${row.measure}`).join('; ')}`}`);
  if (notMet.length === 0 && !failed && log.other.length === 0) fs.rmSync(processes.tempDir, { recursive: true, force: true });
  else console.log(`gateway config and log kept in ${processes.tempDir}`);
  process.exitCode = notMet.length === 0 && !failed ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
