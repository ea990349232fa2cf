import { fork, type ChildProcess } from 'node:child_process';
import { siblingExecArgv, siblingScript } from './sibling';
import { reportExportBench, runExportBench } from './export-bench';
import { reportStatisticsBench, runStatisticsBench } from './statistics-bench';
import autocannon from 'autocannon';
import { request } from 'undici';

/**
 * `npm run bench`: speed and memory figures of the gateway against the vendor simulators on
 * loopback. Bounded in time (BENCH_SECONDS per load run, default 5). Prints a table and a JSON
 * line; targets are ratios measured in the same run, so the machine's speed cancels out.
 */
interface Ready {
  type: 'ready';
  gatewayUrl: string;
  size: number;
  simulators: Array<{ vendor: string; baseUrl: string; credentials: Record<string, string> }>;
}

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);

/** The gateway process's answer to `rss`: its peak RSS, its memory at that peak and its CPU time so far. */
interface GatewayMemory {
  peakRss: number;
  atPeak: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
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

interface LoadResult {
  /** Requests answered in the run. */
  total: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(options: autocannon.Options): Promise<LoadResult> {
  if (options.connections === 1) return sequential(options);
  const result = await autocannon({ duration: SECONDS, ...options });
  return { total: result.requests.total, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

/**
 * One connection, one request after another, timed to the microsecond: the latency ratio target
 * compares two p50s near 22 ms, where autocannon's whole milliseconds would move it by 5%.
 */
async function sequential(options: autocannon.Options): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    const sent = performance.now();
    try {
      const response = await request(options.url, {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...(options.body === undefined ? {} : { body: options.body as string }),
      });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode >= 300) non2xx += 1;
    } catch {
      errors += 1;
    }
    latencies.push(performance.now() - sent);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1));
  return { total: latencies.length, rps: Math.round(latencies.length / SECONDS), p50: at(0.5), p99: at(0.99), errors, non2xx };
}

const graphqlBody = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });
const PAGE = 'query ($first: Int, $after: String, $filter: AuditEventFilter) { auditEvents(first: $first, after: $after, filter: $filter) { edges { node { id action occurredAt actor { name node { id } } } } pageInfo { hasNextPage endCursor } } }';

/**
 * Upstream list request of a vendor for a 50-event page, for the direct baseline: Nirvana's,
 * served by the replay upstream (bench/replay-upstream.ts) from stored bytes.
 */
function directRequest(simulator: Ready['simulators'][number]): { url: string; headers: Record<string, string> } | null {
  if (simulator.vendor === 'nirvana') return { url: `${simulator.baseUrl}/v1/audit_logs?limit=50&sort=created_at:desc`, headers: { authorization: `Bearer ${simulator.credentials['apiKey']}` } };
  return null;
}

/** Each source's largest page, as the gateway reports it. */
async function maxPageSizes(gatewayUrl: string): Promise<Record<string, number>> {
  const response = await request(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: graphqlBody('{ sources { vendor capabilities { maxPageSize } } }') });
  const body = (await response.body.json()) as { data: { sources: Array<{ vendor: string; capabilities: { maxPageSize: number } }> } };
  return Object.fromEntries(body.data.sources.map((source) => [source.vendor.toLowerCase(), source.capabilities.maxPageSize]));
}

async function traverse(gatewayUrl: string, first: number): Promise<{ events: number; pages: number; ms: number }> {
  const started = performance.now();
  let after: string | null = null;
  let events = 0;
  let pages = 0;
  for (;;) {
    const response = await request(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: graphqlBody(PAGE, { first, after }) });
    const body = (await response.body.json()) as { data: { auditEvents: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }; errors?: unknown[] };
    if (body.errors) throw new Error(`traversal failed: ${JSON.stringify(body.errors)}`);
    events += body.data.auditEvents.edges.length;
    pages += 1;
    if (!body.data.auditEvents.pageInfo.hasNextPage) break;
    after = body.data.auditEvents.pageInfo.endCursor;
  }
  return { events, pages, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const child = fork(siblingScript('serve'), { execArgv: siblingExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<Ready>((resolve) => child.once('message', (message: Ready) => resolve(message)));
  const results: Record<string, unknown> = { eventsPerSource: ready.size, secondsPerRun: SECONDS };
  const rows: string[][] = [['measure', 'req/s', 'p50 ms', 'p99 ms', 'errors']];
  const row = (name: string, r: LoadResult) => {
    rows.push([name, String(r.rps), String(r.p50), String(r.p99), String(r.errors + r.non2xx)]);
    results[name] = r;
  };

  try {
    const single = ready.simulators.find((simulator) => directRequest(simulator));
    if (!single) throw new Error('no simulator with a direct baseline');
    const direct = directRequest(single)!;
    const singleBody = graphqlBody(PAGE, { first: 50, filter: { sources: [`${single.vendor}-bench`] } });
    const mergedBody = graphqlBody(PAGE, { first: 50 });
    const gatewayPost = { url: ready.gatewayUrl, method: 'POST' as const, headers: { 'content-type': 'application/json' } };

    // Warm-up: the replay upstream stores its answers, graphql-jit compiles the operations.
    for (let i = 0; i < 20; i++) {
      await load({ url: direct.url, headers: direct.headers, connections: 1, duration: 0.05 });
      await request(ready.gatewayUrl, { ...gatewayPost, body: singleBody }).then((response) => response.body.dump());
    }
    let singleCpuMsPerRequest = Number.NaN;
    let singleLoadPeakRssMb = Number.NaN;
    for (const latencyMs of [0, 20]) {
      await ask(child, { type: 'latency', latencyMs }, 'latency-set');
      const connections = latencyMs === 0 ? 20 : 1;
      row(`direct ${single.vendor} 50 events, ${latencyMs} ms upstream, ${connections} conn`, await load({ url: direct.url, headers: direct.headers, connections }));
      const cpuBefore = (await ask<GatewayMemory>(child, { type: 'rss' }, 'rss')).cpu;
      const singleRun = await load({ ...gatewayPost, body: singleBody, connections });
      const afterSingle = await ask<GatewayMemory>(child, { type: 'rss' }, 'rss');
      row(`gateway ${single.vendor} 50 events, ${latencyMs} ms upstream, ${connections} conn`, singleRun);
      if (latencyMs === 0) {
        singleCpuMsPerRequest = (afterSingle.cpu.user + afterSingle.cpu.system - cpuBefore.user - cpuBefore.system) / 1000 / Math.max(1, singleRun.total);
        singleLoadPeakRssMb = Math.round(afterSingle.peakRss / 1024 / 1024);
      }
      row(`gateway merged ${ready.simulators.length} sources 50 events, ${latencyMs} ms upstream, ${connections} conn`, await load({ ...gatewayPost, body: mergedBody, connections }));
    }
    results['singleSource'] = { gatewayCpuMsPerRequest: Number(singleCpuMsPerRequest.toFixed(3)), peakRssMb: singleLoadPeakRssMb };
    await ask(child, { type: 'latency', latencyMs: 0 }, 'latency-set');

    const before = await ask<{ requests: Record<string, number> }>(child, { type: 'stats' }, 'stats');
    const cpuBefore = (await ask<GatewayMemory>(child, { type: 'rss' }, 'rss')).cpu;
    const traversal = await traverse(ready.gatewayUrl, 100);
    const cpuAfter = (await ask<GatewayMemory>(child, { type: 'rss' }, 'rss')).cpu;
    const after = await ask<{ requests: Record<string, number> }>(child, { type: 'stats' }, 'stats');
    const gatewayCpuMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000;
    const upstream = Object.fromEntries(Object.entries(after.requests).map(([vendor, count]) => [vendor, count - (before.requests[vendor] ?? 0)]));
    results['traversal'] = {
      ...traversal,
      eventsPerSecond: Math.round(traversal.events / (traversal.ms / 1000)),
      gatewayCpuMsPerPage: Number((gatewayCpuMs / traversal.pages).toFixed(2)),
      upstreamRequests: upstream,
    };
    const memory = await ask<GatewayMemory>(child, { type: 'rss' }, 'rss');
    results['gatewayPeakRssMb'] = Math.round(memory.peakRss / 1024 / 1024);
    results['gatewayMemoryAtPeakMb'] = Object.fromEntries(Object.entries(memory.atPeak).map(([kind, bytes]) => [kind, Math.round(bytes / 1024 / 1024)]));

    const ratio = (results[rows[2]![0]!] as { rps: number }).rps / (results[rows[1]![0]!] as { rps: number }).rps;
    const p50Ratio = (results[rows[5]![0]!] as { p50: number }).p50 / Math.max(1, (results[rows[4]![0]!] as { p50: number }).p50);
    results['ratios'] = { singleSourceThroughputVsDirect: Number(ratio.toFixed(3)), p50At20msVsDirect: Number(p50Ratio.toFixed(2)) };

    const width = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(width[i]!) : cell.padStart(width[i]!))).join('  '));
    const { eventsPerSecond, gatewayCpuMsPerPage } = results['traversal'] as { eventsPerSecond: number; gatewayCpuMsPerPage: number };
    console.log(
      `traversal of every merged event, 100 a page: ${traversal.events} events, ${traversal.pages} pages, ${Math.round(traversal.ms)} ms, ${eventsPerSecond} events/s, gateway CPU ${gatewayCpuMsPerPage} ms a page, upstream requests ${JSON.stringify(upstream)}`,
    );
    console.log(`gateway process peak RSS: ${results['gatewayPeakRssMb']} MB (at the peak, MB: ${JSON.stringify(results['gatewayMemoryAtPeakMb'])})`);
    console.log(`ratios: ${JSON.stringify(results['ratios'])}`);
    console.log(`single source, 20 connections, no upstream delay: gateway CPU ${singleCpuMsPerRequest.toFixed(3)} ms a request, peak RSS ${singleLoadPeakRssMb} MB`);
    // Upstream requests of the full traversal per source, against 3 x ceil(N / min(max page, 1000)) + 2.
    const maxPages = await maxPageSizes(ready.gatewayUrl);
    const requestBounds = Object.fromEntries(Object.keys(upstream).map((vendor) => [vendor, 3 * Math.ceil(ready.size / Math.min(maxPages[vendor] ?? 1000, 1000)) + 2]));
    const overBound = Object.keys(upstream).filter((vendor) => (upstream[vendor] ?? 0) > requestBounds[vendor]!);
    // The performance targets, each as measured in this run (the peer's figures come from the
    // side-by-side tool, not from here).
    const targets: Array<[string, boolean]> = [
      [`single-source req/s >= 1/12 of the upstream's (${ratio.toFixed(3)})`, ratio >= 1 / 12],
      [`gateway CPU <= 0.6 ms a single-source request (${singleCpuMsPerRequest.toFixed(3)} ms)`, singleCpuMsPerRequest <= 0.6],
      [`p50 at 20 ms upstream, 1 connection <= 1.1x direct (${p50Ratio.toFixed(2)}x)`, p50Ratio <= 1.1],
      [`merged traversal >= 50,000 events/s (${eventsPerSecond})`, eventsPerSecond >= 50_000],
      [`peak RSS <= 150 MB for the single-source load (${singleLoadPeakRssMb} MB)`, singleLoadPeakRssMb <= 150],
      [
        `traversal upstream requests <= 3 x ceil(N / min(max page, 1000)) + 2 per source (${Object.entries(upstream).map(([vendor, count]) => `${vendor} ${count}/${requestBounds[vendor]}`).join(', ')})`,
        overBound.length === 0,
      ],
    ];
    results['targets'] = Object.fromEntries(targets);
    for (const [target, met] of targets) console.log(`${met ? 'met    ' : 'NOT MET'}  ${target}`);
    console.log(`BENCH_JSON ${JSON.stringify(results)}`);
  } finally {
    child.kill('SIGTERM');
  }
  // Statistics over 100,000 merged events, in a gateway process of its own (BENCH_STATISTICS=0 skips it).
  if (process.env['BENCH_STATISTICS'] !== '0') reportStatisticsBench(await runStatisticsBench());
  // The evidence export of a million events, in a gateway process of its own (BENCH_EXPORT=0 skips it).
  if (process.env['BENCH_EXPORT'] !== '0') reportExportBench(await runExportBench());
}

void main();
