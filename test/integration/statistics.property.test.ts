import fc from 'fast-check';
import type { AuditEventModel } from '../../src/models/audit-event';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type GraphQLResponse } from '../helpers/gateway';
import { countsBy, expectHistogram, FULL_STATISTICS, traverse, type StatisticsData } from '../helpers/statistics';

/*
 * Statistics against brute force: for random data, filters and windows over every simulator, the
 * answer equals what counting every event of a full `auditEvents` traversal (same filter, `to`
 * set to the answer's `to`, i.e. the same snapshot) gives. Which fields are asked decides how
 * each source may be counted (vendor totals, vendor statistics, or a scan), so all three are
 * drawn.
 */

const modules = Object.values(vendorModules).filter((module) => module !== undefined);

type FilterPart = 'window' | 'fromOnly' | 'toOnly' | 'sources' | 'actions' | 'categories' | 'actorTypes' | 'text' | 'failed' | 'clientIps' | 'actorIds';
type Ask = 'TOTAL' | 'BREAKDOWN' | 'FULL';

interface Scenario {
  sizes: number[];
  seed: number;
  parts: FilterPart[];
  ask: Ask;
  limit: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  sizes: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 250 })), { minLength: modules.length, maxLength: modules.length }),
  seed: fc.integer({ min: 1, max: 10_000 }),
  parts: fc.uniqueArray(
    fc.constantFrom<FilterPart>('window', 'fromOnly', 'toOnly', 'sources', 'actions', 'categories', 'actorTypes', 'text', 'failed', 'clientIps', 'actorIds'),
    { maxLength: 3 },
  ),
  ask: fc.constantFrom<Ask>('TOTAL', 'BREAKDOWN', 'FULL'),
  limit: fc.integer({ min: 1, max: 100 }),
});

const QUERIES: Record<Exclude<Ask, 'FULL'>, string> = {
  TOTAL: `query ($filter: AuditEventFilter) { auditStatistics(filter: $filter) {
    asOf from to exact eventsScanned totalEvents bySource { source { sourceId } count }
    sourceStatuses { source { sourceId } status errorCode upstreamRequests eventsScanned eventsCounted } } }`,
  BREAKDOWN: `query ($filter: AuditEventFilter) { auditStatistics(filter: $filter) {
    asOf from to exact eventsScanned totalEvents bySource { source { sourceId } count }
    byAction { key count } byCategory { category count } byActorType { actorType count }
    sourceStatuses { source { sourceId } status errorCode upstreamRequests eventsScanned eventsCounted } } }`,
};

/** A filter of the drawn parts, its values taken from the data so that they select something. */
function filterOf(parts: readonly FilterPart[], truth: readonly AuditEventModel[], sourceIds: readonly string[], seed: number): Record<string, unknown> | undefined {
  if (truth.length === 0) return parts.includes('sources') ? { sources: [sourceIds[seed % sourceIds.length]] } : undefined;
  const pick = (k: number) => truth[(seed * (k + 7)) % truth.length]!;
  const times = truth.map((event) => event.occurredAtMs).sort((a, b) => a - b);
  const at = (share: number) => new Date(times[Math.min(times.length - 1, Math.floor(times.length * share))]!).toISOString();
  const filter: Record<string, unknown> = {};
  for (const part of parts) {
    if (part === 'window') Object.assign(filter, { from: at(((seed % 5) + 1) / 10), to: at(0.5 + (seed % 4) / 10) });
    if (part === 'fromOnly' && !filter['from']) filter['from'] = at((seed % 9) / 10);
    if (part === 'toOnly' && !filter['to']) filter['to'] = at(0.3 + (seed % 7) / 10);
    if (part === 'sources') filter['sources'] = sourceIds.filter((_, i) => (i + seed) % 2 === 0);
    if (part === 'actions') filter['actions'] = [...new Set([pick(1).action, pick(2).action])];
    if (part === 'categories') filter['categories'] = [pick(3).category];
    if (part === 'actorTypes') filter['actorTypes'] = [pick(4).actor.type];
    if (part === 'text') filter['text'] = pick(5).action.slice(0, 3);
    if (part === 'failed') filter['failed'] = seed % 2 === 0;
    if (part === 'clientIps') filter['clientIps'] = [truth.find((event) => event.request?.clientIp)?.request?.clientIp ?? '192.0.2.1'];
    if (part === 'actorIds') filter['actorIds'] = [pick(6), pick(8)].map((event) => globalActorId(event));
  }
  if (filter['from'] && filter['to'] && Date.parse(filter['from'] as string) >= Date.parse(filter['to'] as string)) delete filter['from'];
  if (Array.isArray(filter['sources']) && filter['sources'].length === 0) delete filter['sources'];
  return filter;
}

function globalActorId(event: AuditEventModel): string {
  const key = event.actor.sourceActorId ?? `~${event.actor.type}`;
  return Buffer.from(JSON.stringify(['A', event.sourceId, key]), 'utf8').toString('base64url');
}

async function run(s: Scenario): Promise<void> {
  const setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-st`, module, size: s.sizes[index]!, seed: s.seed + index })));
  try {
    const truth = [...setup.simulators.entries()].flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId));
    const filter = filterOf(s.parts, truth, [...setup.simulators.keys()], s.seed);
    const response: GraphQLResponse<{ auditStatistics: StatisticsData }> = await setup.query(s.ask === 'FULL' ? FULL_STATISTICS : QUERIES[s.ask], { filter, limit: s.limit });
    expect(response.errors).toBeUndefined();
    const stats = response.data!.auditStatistics;
    expect(stats.exact).toBe(true);
    for (const status of stats.sourceStatuses) expect(['NATIVE', 'SCANNED', 'SKIPPED', 'NOT_APPLICABLE']).toContain(status.status);
    expect(stats.from).toBe(filter?.['from'] ?? null);

    // The same question through auditEvents: its window cut where the answer's was.
    const listed = await traverse(setup, { ...filter, to: stats.to });
    expect(stats.totalEvents).toBe(listed.length);
    expect(stats.bySource!.map((item) => [item.source.sourceId, item.count])).toEqual(countsBy(listed, (event) => event.source.sourceId));
    for (const status of stats.sourceStatuses) {
      if (status.status === 'NATIVE' || status.status === 'SCANNED') expect(status.eventsCounted).toBe(listed.filter((event) => event.source.sourceId === status.source.sourceId).length);
    }
    if (s.ask === 'TOTAL') return;
    expect(stats.byAction!.map((item) => [item.key, item.count])).toEqual(countsBy(listed, (event) => event.action));
    expect(stats.byCategory!.map((item) => [item.category, item.count])).toEqual(countsBy(listed, (event) => event.category));
    expect(stats.byActorType!.map((item) => [item.actorType, item.count])).toEqual(countsBy(listed, (event) => event.actor.type));
    if (s.ask === 'BREAKDOWN') return;
    expect(stats.topActors!.map((item) => [item.actor.id, item.count])).toEqual(countsBy(listed, (event) => event.actor.node.id).slice(0, s.limit));
    const window = { from: stats.from, to: stats.to };
    expectHistogram(stats.hour!, listed, 'HOUR', window);
    expectHistogram(stats.day!, listed, 'DAY', window);
    expectHistogram(stats.week!, listed, 'WEEK', window);
    expectHistogram(stats.month!, listed, 'MONTH', window);
  } finally {
    await setup.close();
  }
}

describe('auditStatistics over every simulator (property-based)', () => {
  it('equals brute-force counts of the same events listed through auditEvents, whatever the data, filter and window', async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { numRuns: 30, endOnFailure: true });
  }, 300_000);
});
