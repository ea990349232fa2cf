import { fork, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { siblingExecArgv, siblingScript } from './sibling';

/**
 * The statistics benchmark (run by `npm run bench` after the connection figures, or alone:
 * `node dist/bench/statistics-bench.js`): one `auditStatistics` answer with every facet (so every
 * source is scanned) over the merged events of the five simulators (BENCH_STATISTICS_EVENTS,
 * default 100,000, split evenly), in the gateway process of bench/serve.ts, the simulators in
 * their own process. Reports the wall time of the first answer (both processes cold), of the
 * same events counted again under a window closed at that answer's end (warm), and of that
 * question asked again (answered from the cache); the upstream requests per source of the first
 * against the scan's bound, the gateway's CPU time, and how much the gateway's peak RSS grew.
 */
const SOURCES = 5;
/** The largest page of each vendor: a scan of N events costs about ceil(N / page) + 1 requests. */
const MAX_PAGE: Record<string, number> = { nirvana: 100, complianceagent: 100, asana: 100, port: 1_000, agilicus: 5_000 };
/**
 * The upstream logs a vendor's events come from. Each log is read to its own end, and only a
 * short page shows an end, so each costs ceil(N_log / page) + 1: Agilicus's audit and auth
 * records, which its simulator splits evenly, are two such logs (10,000 each of 20,000 make
 * 3 + 3 requests, where ceil(20,000 / 5,000) + 1 would be 5, fewer than any reader can make).
 */
const LOGS: Record<string, number> = { agilicus: 2 };

/** The scan's bound for `events` of a vendor: ceil(N_log / page) + 1 for each of its logs, the events split as evenly as they go. */
function scanBound(vendor: string, events: number): number {
  const logs = LOGS[vendor] ?? 1;
  let bound = 0;
  for (let log = 0; log < logs; log += 1) {
    const inLog = Math.floor(events / logs) + (log < events % logs ? 1 : 0);
    bound += Math.ceil(inLog / MAX_PAGE[vendor]!) + 1;
  }
  return bound;
}

const QUERY = `query ($filter: AuditEventFilter) {
  auditStatistics(filter: $filter) {
    asOf to exact eventsScanned totalEvents
    bySource { source { sourceId } count }
    byAction { key count } byCategory { category count } byActorType { actorType count }
    topActors(limit: 10) { actor { id } count }
    histogram(interval: HOUR) { start count }
    sourceStatuses { source { sourceId } status upstreamRequests eventsCounted }
  }
}`;

interface Answer {
  to: string;
  exact: boolean;
  eventsScanned: number;
  totalEvents: number;
  sourceStatuses: Array<{ source: { sourceId: string }; status: string; upstreamRequests: number; eventsCounted: number | null }>;
}

/** bench/serve.ts's answer to `rss`. */
interface GatewayState {
  peakRss: number;
  cpu: NodeJS.CpuUsage;
}

export interface StatisticsBenchResult {
  events: number;
  exact: boolean;
  seconds: number;
  warmSeconds: number;
  cachedSeconds: number;
  /** Gateway CPU time of the first answer. */
  gatewayCpuSeconds: number;
  /** Upstream requests each vendor's simulator saw, and the scan's bound for its events. */
  upstreamRequests: Record<string, { requests: number; bound: number }>;
  gatewayPeakRssBeforeMb: number;
  /** Growth of the gateway's peak RSS with the first answer. */
  gatewayPeakRssGrowthMb: number;
  /** Growth with the second (warm) answer, over the peak of the first: V8 keeps a heap it has grown. */
  gatewayPeakRssGrowthWarmMb: number;
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

async function statistics(url: string, filter?: Record<string, unknown>): Promise<{ answer: Answer; seconds: number }> {
  const started = performance.now();
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY, variables: { filter } }) });
  const body = (await response.body.json()) as { data?: { auditStatistics: Answer }; errors?: unknown[] };
  const seconds = (performance.now() - started) / 1000;
  if (body.errors || !body.data) throw new Error(`statistics failed: ${JSON.stringify(body.errors)}`);
  return { answer: body.data.auditStatistics, seconds };
}

/** Twenty pages of 100 merged events. */
async function warmUp(url: string): Promise<void> {
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query ($after: String) { auditEvents(first: 100, after: $after) { nodes { id action actor { name } } pageInfo { endCursor } } }', variables: { after } }),
    });
    const body = (await response.body.json()) as { data: { auditEvents: { pageInfo: { endCursor: string } } } };
    after = body.data.auditEvents.pageInfo.endCursor;
  }
}

export async function runStatisticsBench(totalEvents = Number(process.env['BENCH_STATISTICS_EVENTS'] ?? 100_000)): Promise<StatisticsBenchResult> {
  const perSource = Math.ceil(totalEvents / SOURCES);
  const child = fork(siblingScript('serve'), { execArgv: siblingExecArgv(), env: { ...process.env, BENCH_SIZE: String(perSource) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise<{ gatewayUrl: string }>((resolve) => child.once('message', (message: { gatewayUrl: string }) => resolve(message)));
    // A gateway that has served a little, as one in use has: its young generation is grown, so
    // the growth measured below is what the statistics themselves hold.
    await warmUp(ready.gatewayUrl);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await ask<GatewayState>(child, { type: 'rss' }, 'rss');
    const requestsBefore = (await ask<{ requests: Record<string, number> }>(child, { type: 'stats' }, 'stats')).requests;
    const cold = await statistics(ready.gatewayUrl);
    const requestsAfter = (await ask<{ requests: Record<string, number> }>(child, { type: 'stats' }, 'stats')).requests;
    // serve.ts samples its RSS every 50 ms.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterCold = await ask<GatewayState>(child, { type: 'rss' }, 'rss');
    const closed = { to: cold.answer.to };
    const warm = await statistics(ready.gatewayUrl, closed);
    const cached = await statistics(ready.gatewayUrl, closed);
    if (warm.answer.totalEvents !== cold.answer.totalEvents) throw new Error('the closed window counted other events');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await ask<GatewayState>(child, { type: 'rss' }, 'rss');
    const upstreamRequests = Object.fromEntries(
      Object.entries(requestsAfter).map(([vendor, count]) => {
        const counted = cold.answer.sourceStatuses.find((status) => status.source.sourceId === `${vendor}-bench`)?.eventsCounted ?? perSource;
        return [vendor, { requests: count - (requestsBefore[vendor] ?? 0), bound: scanBound(vendor, counted) }];
      }),
    );
    return {
      events: cold.answer.totalEvents,
      exact: cold.answer.exact,
      seconds: Number(cold.seconds.toFixed(2)),
      warmSeconds: Number(warm.seconds.toFixed(2)),
      cachedSeconds: Number(cached.seconds.toFixed(3)),
      gatewayCpuSeconds: Number(((afterCold.cpu.user + afterCold.cpu.system - before.cpu.user - before.cpu.system) / 1e6).toFixed(2)),
      upstreamRequests,
      gatewayPeakRssBeforeMb: Math.round(before.peakRss / 1024 / 1024),
      gatewayPeakRssGrowthMb: Math.round((afterCold.peakRss - before.peakRss) / 1024 / 1024),
      gatewayPeakRssGrowthWarmMb: Math.round((after.peakRss - afterCold.peakRss) / 1024 / 1024),
    };
  } finally {
    child.kill('SIGTERM');
  }
}

/** Prints the figures and whether each target is met. */
export function reportStatisticsBench(result: StatisticsBenchResult): void {
  const requests = Object.entries(result.upstreamRequests)
    .map(([vendor, { requests: made, bound }]) => `${vendor} ${made} (bound ${bound})`)
    .join(', ');
  console.log(
    `statistics over ${result.events} merged events (every facet, every source scanned, exact: ${result.exact}): ${result.seconds} s cold (gateway CPU ${result.gatewayCpuSeconds} s), ${result.warmSeconds} s warm, ${result.cachedSeconds} s from the cache; upstream requests: ${requests}; gateway peak RSS ${result.gatewayPeakRssBeforeMb} MB before, grew ${result.gatewayPeakRssGrowthMb} MB with the first answer and ${result.gatewayPeakRssGrowthWarmMb} MB more with the second`,
  );
  const targets: Array<[string, boolean]> = [
    [`statistics over ${result.events} events < 2 s (${result.seconds} s cold, ${result.warmSeconds} s warm)`, result.warmSeconds < 2],
    [`gateway peak RSS growth < 50 MB (${result.gatewayPeakRssGrowthMb} MB)`, result.gatewayPeakRssGrowthMb < 50],
    [`upstream requests of each scanned source within ceil(N / largest page) + 1 a log (${requests})`, Object.values(result.upstreamRequests).every(({ requests: made, bound }) => made <= bound)],
  ];
  for (const [target, met] of targets) console.log(`${met ? 'met    ' : 'NOT MET'}  ${target}`);
  console.log(`BENCH_STATISTICS_JSON ${JSON.stringify(result)}`);
}

if (require.main === module) {
  runStatisticsBench().then(reportStatisticsBench, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
