import { createHash, randomBytes } from 'node:crypto';
import type { AuthConfig } from '../../src/auth';
import { vendorModules } from '../../src/vendors';
import { agilicusModule } from '../../src/vendors/agilicus';
import { complianceAgentModule } from '../../src/vendors/complianceagent';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway';
import { FULL_STATISTICS, type StatisticsData } from '../helpers/statistics';

/*
 * auditStatistics over loopback HTTP against the simulators: what it costs upstream (counted at
 * the simulators), how it shares work, and how it says what it could not count.
 */

type Answer = GraphQLResponse<{ auditStatistics: StatisticsData }> & { status: number };
const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const SIZE = 1_200;
const MAX_PAGE: Record<string, number> = { nirvana: 100, complianceagent: 100, asana: 100, port: 1_000, agilicus: 5_000 };

/**
 * The most upstream requests a scan of `events` events of `vendor` may cost: one per full page
 * and one more to learn that the log ends, plus Port's token exchange (once per gateway) and a
 * last read of each of Agilicus's two logs.
 */
function scanBound(vendor: string, events: number): number {
  const bound = Math.ceil(events / MAX_PAGE[vendor]!) + 1;
  return vendor === 'port' || vendor === 'agilicus' ? bound + 1 : bound;
}

const upstreamRequests = (setup: TestGateway) => new Map([...setup.simulators].map(([id, simulator]) => [id, simulator.control.stats.requests]));
const resetStats = (setup: TestGateway) => {
  for (const simulator of setup.simulators.values()) simulator.control.resetStats();
};

describe('auditStatistics: cost, sharing and failures', () => {
  let setup: TestGateway;
  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: SIZE, seed: 40 + index })));
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('scans each source once, at its largest page, for 50 identical requests at once, and reuses the answer', async () => {
    // Asked once, so that one-off start-up calls (Port's token) are not counted below.
    await setup.query('{ auditStatistics(filter: {from: "2026-10-31T23:59:00Z", to: "2026-10-31T23:59:01Z"}) { totalEvents } }');
    resetStats(setup);
    // Every facet that needs a scan, with small answers, so that the 50 are served together.
    const query = `{ auditStatistics { asOf to exact totalEvents topActors(limit: 5) { actor { id } count } histogram(interval: MONTH) { start end count }
      sourceStatuses { source { sourceId } status errorCode upstreamRequests eventsScanned eventsCounted } } }`;
    const answers = await Promise.all(Array.from({ length: 50 }, () => setup.query<{ auditStatistics: StatisticsData }>(query)));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const first = answers[0]!.data!.auditStatistics;
    for (const answer of answers) expect(answer.data!.auditStatistics).toEqual(first);
    expect(first.exact).toBe(true);
    expect(first.totalEvents).toBe(SIZE * modules.length);

    const made = upstreamRequests(setup);
    for (const status of first.sourceStatuses) {
      const vendor = status.source.sourceId.replace(/-main$/, '');
      expect(status.status).toBe('SCANNED');
      // Everything the simulators saw is one scan's worth: what the one computation reports.
      expect(made.get(status.source.sourceId)).toBe(status.upstreamRequests);
      expect(status.upstreamRequests).toBeLessThanOrEqual(scanBound(vendor, status.eventsCounted!) - (vendor === 'port' ? 1 : 0));
    }

    // A window that ended before the snapshot is the same question later: answered from the cache.
    const closed = { from: '2026-10-31T23:30:00Z', to: '2026-11-01T00:00:00Z' };
    const once: Answer = await setup.query(FULL_STATISTICS, { filter: closed, limit: 3 });
    resetStats(setup);
    const again: Answer = await setup.query(FULL_STATISTICS, { filter: closed, limit: 3 });
    expect(again.data).toEqual(once.data);
    expect([...upstreamRequests(setup).values()].every((count) => count === 0)).toBe(true);
  });

  it('lists a failing source as FAILED, leaves it out of every number, and says exact: false', async () => {
    const all: Answer = await setup.query(FULL_STATISTICS, { filter: { to: '2026-11-01T00:00:00Z' }, limit: 10 });
    const nirvana = setup.simulators.get('nirvana-main')!;
    // Every attempt of one call (the first try and its two retries) fails.
    nirvana.control.inject({ kind: 'status', status: 503 }, 3);
    // The same events under another filter: the answer above is cached, this one is not.
    const filter = { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' };
    const failing: Answer = await setup.query(FULL_STATISTICS, { filter, limit: 10 });
    const stats = failing.data!.auditStatistics;
    expect(stats.exact).toBe(false);
    const status = stats.sourceStatuses.find((item) => item.source.sourceId === 'nirvana-main')!;
    expect(status).toMatchObject({ status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', eventsCounted: null });
    expect(failing.errors).toEqual([expect.objectContaining({ path: ['auditStatistics'], extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', source: 'nirvana-main' }) })]);
    // The numbers are those of the other sources, whole: never a total that silently lacks a part.
    const nirvanaCount = all.data!.auditStatistics.bySource!.find((item) => item.source.sourceId === 'nirvana-main')!.count;
    expect(stats.totalEvents).toBe(all.data!.auditStatistics.totalEvents - nirvanaCount);
    expect(stats.bySource!.map((item) => item.source.sourceId)).not.toContain('nirvana-main');

    // A failure is not kept: the next request counts the source again.
    const recovered: Answer = await setup.query(FULL_STATISTICS, { filter, limit: 10 });
    expect(recovered.data!.auditStatistics).toMatchObject({ exact: true, totalEvents: all.data!.auditStatistics.totalEvents, bySource: all.data!.auditStatistics.bySource });
  });

  it('counts with the vendor where it counts exactly what is asked', async () => {
    const window = { from: '2026-10-31T23:50:00Z', to: '2026-10-31T23:59:00Z' };
    const totals: Answer = await setup.query(`query ($filter: AuditEventFilter) { auditStatistics(filter: $filter) { totalEvents sourceStatuses { source { sourceId } status upstreamRequests eventsCounted } } }`, { filter: window });
    const byId = new Map(totals.data!.auditStatistics.sourceStatuses.map((status) => [status.source.sourceId, status]));
    // Totals: Nirvana's and ComplianceAgent's totals for the query.
    expect(byId.get('nirvana-main')!.status).toBe('NATIVE');
    expect(byId.get('complianceagent-main')!.status).toBe('NATIVE');
    expect(byId.get('complianceagent-main')!.upstreamRequests).toBe(1);
    expect(byId.get('port-main')!.status).toBe('SCANNED');

    const breakdown: Answer = await setup.query(`query ($filter: AuditEventFilter) { auditStatistics(filter: $filter) { byAction { key count } sourceStatuses { source { sourceId } status upstreamRequests } } }`, { filter: window });
    const ca = breakdown.data!.auditStatistics.sourceStatuses.find((status) => status.source.sourceId === 'complianceagent-main')!;
    // ComplianceAgent's own statistics of the window: one request.
    expect(ca).toMatchObject({ status: 'NATIVE', upstreamRequests: 1 });
    expect(breakdown.data!.auditStatistics.sourceStatuses.find((status) => status.source.sourceId === 'nirvana-main')!.status).toBe('SCANNED');

    // A filter the vendor's statistics do not answer is scanned instead.
    const filtered: Answer = await setup.query(`query ($filter: AuditEventFilter) { auditStatistics(filter: $filter) { byAction { key count } sourceStatuses { source { sourceId } status } } }`, {
      filter: { ...window, categories: ['COMPLIANCE'] },
    });
    expect(filtered.data!.auditStatistics.sourceStatuses.find((status) => status.source.sourceId === 'complianceagent-main')!.status).toBe('SCANNED');

    // Nor does auditEvents' totalCount take a vendor's count of a query that lacks part of the filter.
    const page = await setup.query<{ auditEvents: { totalCount: number | null } }>('query ($filter: AuditEventFilter) { auditEvents(first: 1, filter: $filter) { totalCount } }', {
      filter: { sources: ['nirvana-main'], categories: ['ADMIN'] },
    });
    expect(page.data!.auditEvents.totalCount).toBeNull();
  });

  it('refuses bad input with BAD_USER_INPUT before any upstream call', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['{ auditStatistics(filter: {from: "2020-01-01T00:00:00Z"}) { histogram(interval: HOUR) { count } } }', {}, 'interval'],
      ['{ auditStatistics { topActors(limit: 101) { count } } }', {}, 'limit'],
      ['query ($l: PositiveInt) { auditStatistics { totalEvents ...F } } fragment F on AuditStatistics { topActors(limit: $l) { count } }', { l: 500 }, 'limit'],
      ['{ auditStatistics(filter: {from: "2026-11-01T00:00:00Z", to: "2026-10-01T00:00:00Z"}) { totalEvents } }', {}, 'filter.from'],
      ['{ auditStatistics(filter: {sources: ["nope"]}) { totalEvents } }', {}, 'filter.sources'],
      ['{ auditStatistics(filter: {clientIps: ["10.0.0.300"]}) { totalEvents } }', {}, 'filter.clientIps[0]'],
      ['{ auditStatistics(filter: {actorIds: ["not-an-id"]}) { totalEvents } }', {}, ''],
    ];
    resetStats(setup);
    for (const [query, variables, field] of cases) {
      const response = await setup.query(query, variables);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      if (field) expect(response.errors?.[0]?.extensions?.['field']).toBe(field);
    }
    expect([...upstreamRequests(setup).values()].every((count) => count === 0)).toBe(true);

    // A field the operation leaves out is not checked (nor counted for).
    const skipped = await setup.query('query ($no: Boolean!) { auditStatistics { totalEvents topActors(limit: 500) @include(if: $no) { count } } }', { no: false });
    expect(skipped.errors).toBeUndefined();
  });
});

describe('auditStatistics: scan budget', () => {
  it('says which sources it could not finish within server.statistics.maxScanRequests, instead of guessing', async () => {
    const setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 2_000 },
        { id: 'port-main', module: portModule, size: 300 },
        { id: 'agilicus-main', module: agilicusModule, size: 300 },
      ],
      { statistics: { maxScanRequests: 4, cacheTtlSeconds: 60 } },
    );
    try {
      const response: Answer = await setup.query(FULL_STATISTICS, { limit: 5 });
      const stats = response.data!.auditStatistics;
      expect(stats.exact).toBe(false);
      const nirvana = stats.sourceStatuses.find((status) => status.source.sourceId === 'nirvana-main')!;
      expect(nirvana).toMatchObject({ status: 'INCOMPLETE', errorCode: 'SCAN_BUDGET_EXCEEDED', eventsCounted: null, upstreamRequests: 4 });
      expect(stats.totalEvents).toBe(600);
      expect(stats.bySource!.map((item) => item.source.sourceId).sort()).toEqual(['agilicus-main', 'port-main']);
    } finally {
      await setup.close();
    }
  });
});

describe('auditStatistics: callers of different scopes', () => {
  const OPS_KEY = `ops-${randomBytes(16).toString('hex')}`;
  const NIRVANA_KEY = `nv-${randomBytes(16).toString('hex')}`;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('count only their own sources, never share an answer, and never call another source', async () => {
    const auth: AuthConfig = {
      mode: 'required',
      apiKeys: [
        { id: 'ops', sha256: sha256(OPS_KEY), sources: '*' },
        { id: 'nirvana-reader', sha256: sha256(NIRVANA_KEY), sources: ['nirvana-main'] },
      ],
      jwt: null,
    };
    const setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 100 },
        { id: 'complianceagent-main', module: complianceAgentModule, size: 100 },
      ],
      { auth },
    );
    try {
      const query = '{ auditStatistics { totalEvents sourceStatuses { source { sourceId } } } }';
      const narrow = await setup.query<{ auditStatistics: StatisticsData }>(query, {}, { authorization: `Bearer ${NIRVANA_KEY}` });
      expect(narrow.data!.auditStatistics.totalEvents).toBe(100);
      expect(narrow.data!.auditStatistics.sourceStatuses.map((status) => status.source.sourceId)).toEqual(['nirvana-main']);
      expect(setup.simulators.get('complianceagent-main')!.control.stats.requests).toBe(0);
      const wide = await setup.query<{ auditStatistics: StatisticsData }>(query, {}, { authorization: `Bearer ${OPS_KEY}` });
      expect(wide.data!.auditStatistics.totalEvents).toBe(200);
      const foreign = await setup.query('{ auditStatistics(filter: {sources: ["complianceagent-main"]}) { totalEvents } }', {}, { authorization: `Bearer ${NIRVANA_KEY}` });
      expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE' });
      const anonymous = await setup.query(query);
      expect(anonymous.status).toBe(401);
    } finally {
      await setup.close();
    }
  });
});
