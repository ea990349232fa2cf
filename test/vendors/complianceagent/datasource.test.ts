import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { SourceQuery, SourceResume } from '../../../src/sources/data-source';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource, complianceAgentBaseUrl, planComplianceAgentQuery } from '../../../src/vendors/complianceagent/datasource';
import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const END = Date.UTC(2026, 0, 15);

function open(simulator: RunningComplianceAgentSimulator, overrides: Parameters<typeof dataSourceFor>[2] = {}): ComplianceAgentDataSource {
  const source = dataSourceFor(complianceAgentModule, simulator, overrides);
  if (!(source instanceof ComplianceAgentDataSource)) throw new Error('not a ComplianceAgent datasource');
  return source;
}

const ids = (events: readonly AuditEventModel[]) => events.map((event) => event.sourceEventId);

describe('complianceAgentBaseUrl', () => {
  it('takes the host and drops a trailing /api/v1 so the version is never doubled', () => {
    expect(complianceAgentBaseUrl('https://api.complianceagent.io')).toBe('https://api.complianceagent.io');
    expect(complianceAgentBaseUrl('https://api.complianceagent.io/')).toBe('https://api.complianceagent.io');
    expect(complianceAgentBaseUrl('https://api.complianceagent.io/api/v1/')).toBe('https://api.complianceagent.io');
    expect(complianceAgentBaseUrl('https://ca.example.com/tools/api/v1')).toBe('https://ca.example.com/tools');
  });
});

describe('planComplianceAgentQuery', () => {
  it('pushes down the window start, one action and one repository, and says when that is all of the query', () => {
    expect(planComplianceAgentQuery({ ...NO_FILTER, fromMs: 0, toMs: 1, actions: ['fix.applied'], repositoryIds: ['repo_1'] })).toEqual({
      params: { from: '1970-01-01T00:00:00.000Z', event_type: 'fix.applied', repository_id: 'repo_1' },
      exact: true,
    });
    expect(planComplianceAgentQuery(NO_FILTER)).toEqual({ params: {}, exact: true });
  });

  it('never sends actor: the vendor does not say what it compares', () => {
    expect(planComplianceAgentQuery({ ...NO_FILTER, actorEmails: ['a@acme.com'] })).toEqual({ params: {}, exact: false });
    expect(planComplianceAgentQuery({ ...NO_FILTER, actorIds: ['user_1'], actorTypes: ['USER'] })).toEqual({ params: {}, exact: false });
    expect(planComplianceAgentQuery({ ...NO_FILTER, actorTypes: ['SYSTEM'] })).toEqual({ params: {}, exact: false });
  });

  it('leaves lists, targets, text and request fields to the gateway', () => {
    expect(planComplianceAgentQuery({ ...NO_FILTER, actions: ['a', 'b'] })).toEqual({ params: {}, exact: false });
    expect(planComplianceAgentQuery({ ...NO_FILTER, repositoryIds: ['repo_1', 'repo_2'] })).toEqual({ params: {}, exact: false });
    expect(planComplianceAgentQuery({ ...NO_FILTER, text: 'pii' }).exact).toBe(false);
    expect(planComplianceAgentQuery({ ...NO_FILTER, targetTypes: ['issue'] }).exact).toBe(false);
    expect(planComplianceAgentQuery({ ...NO_FILTER, clientIps: ['192.0.2.1'] }).exact).toBe(false);
    expect(planComplianceAgentQuery({ ...NO_FILTER, failed: false }).exact).toBe(false);
    expect(planComplianceAgentQuery({ ...NO_FILTER, sourceEventIds: ['log_1'] })).toEqual({ params: {}, exact: false });
  });
});

describe('ComplianceAgentDataSource over loopback', () => {
  let simulator: RunningComplianceAgentSimulator;
  let source: ComplianceAgentDataSource;

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 10_000, seed: 9, endMs: END });
    source = open(simulator);
  });

  afterAll(async () => {
    await source?.close();
    await simulator?.stop();
  });

  it('pages through 10,000 events with one request per 100', async () => {
    simulator.control.resetStats();
    const desc = await readAll(source, 'DESC', NO_FILTER, 100);
    expect(desc.events).toHaveLength(10_000);
    expect(desc.requests).toBe(100);
    expect(simulator.control.stats.requests).toBe(100);
    const asc = await readAll(source, 'ASC', NO_FILTER, 100);
    expect(new Set(ids(asc.events)).size).toBe(10_000);
    // Oldest first costs one extra request: the first learns the total and pins the window.
    expect(asc.requests).toBe(101);
    process.stdout.write(`paging 10,000 events at limit 100: DESC ${desc.requests} requests, ASC ${asc.requests}\n`);
  });

  it('works with a base URL that already ends in /api/v1', async () => {
    const versioned = open({ ...simulator, baseUrl: `${simulator.baseUrl}/api/v1/` }, { id: 'versioned' });
    try {
      const batch = await versioned.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 5, signal: AbortSignal.timeout(5000) });
      expect(batch.events).toHaveLength(5);
    } finally {
      await versioned.close();
    }
  });

  it('keeps a newest-first traversal exact while events arrive at the head', async () => {
    const query: SourceQuery = { ...NO_FILTER, fromMs: simulator.dataset.timeOf(9_000) };
    const first = simulator.dataset.lowerBound(query.fromMs!);
    const sizeBefore = simulator.dataset.size;
    simulator.control.knobs.appendPerRequest = 7;
    try {
      const { events } = await readAll(source, 'DESC', query, 25);
      // The window ends when the first request is sent: every event appended while paging, the 7
      // appended while the first page was being answered included, is past the pin.
      const expected = simulator.expectedEvents('x').slice(first, sizeBefore);
      expect(simulator.dataset.size).toBeGreaterThan(sizeBefore + 7);
      expect(new Set(ids(events)).size).toBe(events.length);
      expect(ids(events).sort()).toEqual(ids(expected).sort());
    } finally {
      simulator.control.knobs.appendPerRequest = 0;
    }
  });

  it('accepts a different limit on every batch', async () => {
    const query: SourceQuery = { ...NO_FILTER, actions: ['fix.applied'] };
    const expected = simulator.expectedEvents('x').filter((event) => event.action === 'fix.applied');
    for (const direction of ['DESC', 'ASC'] as const) {
      const seen: AuditEventModel[] = [];
      let resume: SourceResume | null = null;
      for (let i = 0; ; i++) {
        const batch = await source.listEvents({ direction, query, resume, limit: [7, 100, 13, 50][i % 4]!, signal: AbortSignal.timeout(5000) });
        seen.push(...batch.events);
        if (batch.next === null) break;
        resume = batch.next;
      }
      expect(ids(seen).sort()).toEqual(ids(expected).sort());
    }
  });

  it('counts pushed-down queries upstream and declines the others', async () => {
    const all = simulator.expectedEvents('x');
    const repositoryId = all.find((event) => event.repository)!.repository!.sourceRepositoryId;
    const query: SourceQuery = { ...NO_FILTER, actions: ['fix.applied'], repositoryIds: [repositoryId] };
    const expected = all.filter((event) => event.action === 'fix.applied' && event.repository?.sourceRepositoryId === repositoryId).length;
    expect(expected).toBeGreaterThan(0);
    expect(await source.countEvents(query, AbortSignal.timeout(5000))).toBe(expected);
    expect(await source.countEvents({ ...NO_FILTER, actions: ['a', 'b'] }, AbortSignal.timeout(5000))).toBeNull();
    const email = all.find((event) => event.actor.email)!.actor.email!;
    expect(await source.countEvents({ ...NO_FILTER, actorEmails: [email] }, AbortSignal.timeout(5000))).toBeNull();
  });

  it('refuses a resume state it did not write', async () => {
    const error = await source.listEvents({ direction: 'DESC', query: NO_FILTER, resume: { page: 3 }, limit: 10, signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamCursorExpired);
  });

  it('reads an empty window as one empty batch', async () => {
    const result = await source.listEvents({ direction: 'ASC', query: { ...NO_FILTER, fromMs: Date.UTC(2100, 0, 1) }, resume: null, limit: 10, signal: AbortSignal.timeout(5000) });
    expect(result).toEqual({ events: [], next: null, upstreamRequests: 1 });
  });

  it('gives UPSTREAM_RATE_LIMITED with the wait when the key is over its quota', async () => {
    const limited = await startComplianceAgentSimulator({ size: 50, seed: 1, endMs: END, rateLimit: { limit: 2, windowMs: 60_000 } });
    const client = open(limited, { id: 'limited' });
    try {
      for (let i = 0; i < 2; i++) await client.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(5000) });
      const error = await client.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamRateLimited);
      expect((error as UpstreamError).retryAfterSeconds).toBeGreaterThan(50);
      expect(limited.control.stats.requests).toBe(3);
    } finally {
      await client.close();
      await limited.stop();
    }
  });
});
