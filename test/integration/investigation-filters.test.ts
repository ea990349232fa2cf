import { selectEvents, type EventFilterInput } from '../../src/connection/filter';
import { compareKeys, keyOf } from '../../src/connection/order';
import type { AuditEventModel } from '../../src/models/audit-event';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway';

const PAGE = `query ($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { node { sourceEventId source { sourceId } } }
    pageInfo { hasNextPage endCursor }
    sourceStatuses { source { sourceId } status upstreamRequests }
  }
}`;

interface Page {
  auditEvents: {
    edges: Array<{ node: { sourceEventId: string; source: { sourceId: string } } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    sourceStatuses: Array<{ source: { sourceId: string }; status: string; upstreamRequests: number }>;
  };
}

type Warning = { code: string; source: string; fields?: string[] };

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const identity = (event: { sourceId: string; sourceEventId: string }) => `${event.sourceId}/${event.sourceEventId}`;

describe('the filters an investigation needs, over every vendor', () => {
  let setup: TestGateway;
  let truth: AuditEventModel[];
  const upstreamRequests = () => [...setup.simulators.values()].reduce((sum, simulator) => sum + simulator.control.stats.requests, 0);

  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-inv`, module, size: 600, seed: 90 + index })));
    truth = [...setup.simulators.entries()].flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId));
  });
  afterAll(async () => {
    await setup?.close();
  });

  /** Every page of `filter`, the ids in order, the statuses of the first page and the warnings. */
  async function listAll(filter: Record<string, unknown>): Promise<{ ids: string[]; statuses: Page['auditEvents']['sourceStatuses']; warnings: Warning[] }> {
    const ids: string[] = [];
    let after: string | null = null;
    let statuses: Page['auditEvents']['sourceStatuses'] | null = null;
    let warnings: Warning[] = [];
    for (let page = 0; page < 200; page++) {
      const response: GraphQLResponse<Page> & { extensions?: { warnings?: Warning[] } } = await setup.query<Page>(PAGE, { first: 100, after, filter });
      expect(response.errors).toBeUndefined();
      const connection = response.data!.auditEvents;
      statuses ??= connection.sourceStatuses;
      if (page === 0) warnings = response.extensions?.warnings ?? [];
      ids.push(...connection.edges.map((edge) => identity({ sourceId: edge.node.source.sourceId, sourceEventId: edge.node.sourceEventId })));
      if (!connection.pageInfo.hasNextPage) return { ids, statuses, warnings };
      after = connection.pageInfo.endCursor;
    }
    throw new Error('traversal did not end');
  }

  /** What the gateway must list for `filter`: the ground truth through the gateway's own semantics. */
  function expected(filter: EventFilterInput): string[] {
    const selection = selectEvents(filter, setup.gateway.sources.filterable, 'DESC');
    const selected = new Set(selection.sourceIds);
    return truth
      .filter((event) => selected.has(event.sourceId) && selection.matches(event))
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b), 'DESC'))
      .map(identity);
  }

  const sample = <T>(pick: (event: AuditEventModel) => T | null | undefined): T => {
    const values = truth.map(pick).filter((value): value is T => value !== null && value !== undefined);
    expect(values.length).toBeGreaterThan(0);
    return values[Math.floor(values.length / 2)]!;
  };

  it('lists exactly the matching events of every vendor for each request, outcome and repository filter', async () => {
    const ipv4 = sample((event) => (event.request?.clientIp && /^[0-9.]+$/.test(event.request.clientIp) ? event.request.clientIp : null));
    const filters: EventFilterInput[] = [
      { clientIps: [ipv4] },
      { clientIps: [`${ipv4.split('.').slice(0, 2).join('.')}.0.0/16`, '2001:db8::/32'] },
      { sessionIds: [sample((event) => event.request?.sessionId)] },
      { requestIds: [sample((event) => event.request?.requestId)] },
      { traceIds: [sample((event) => event.request?.traceId)] },
      { userAgents: [sample((event) => event.request?.userAgent?.slice(0, 10))] },
      { failed: true },
      { failed: false },
      { repositoryIds: [sample((event) => event.repository?.sourceRepositoryId)] },
      { sourceEventIds: [truth[3]!.sourceEventId, truth[truth.length - 5]!.sourceEventId] },
      { text: ipv4 },
    ];
    for (const filter of filters) {
      const want = expected(filter);
      expect({ filter, found: want.length > 0 }).toEqual({ filter, found: true });
      const { ids } = await listAll({ ...filter });
      expect({ filter, ids }).toEqual({ filter, ids: want });
    }
  });

  it('answers at once for sources that never record what the filter asks about, with a warning, instead of scanning them', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.resetStats();
    const email = sample((event) => event.actor.email);
    const { ids, statuses, warnings } = await listAll({ actorEmails: [email] });
    expect(ids).toEqual(expected({ actorEmails: [email] }));
    const notApplicable = statuses.filter((status) => status.status === 'NOT_APPLICABLE').map((status) => status.source.sourceId);
    expect(notApplicable.sort()).toEqual(['agilicus-inv', 'nirvana-inv', 'port-inv']);
    for (const sourceId of notApplicable) {
      expect(statuses.find((status) => status.source.sourceId === sourceId)!.upstreamRequests).toBe(0);
      expect(setup.simulators.get(sourceId)!.control.stats.requests).toBe(0);
      expect(warnings).toContainEqual(expect.objectContaining({ code: 'FILTER_NOT_APPLICABLE', source: sourceId, fields: ['filter.actorEmails'] }));
    }
  });

  it('answers an empty page at once when no selected source can match', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.resetStats();
    const { ids, statuses, warnings } = await listAll({ sources: ['port-inv', 'nirvana-inv'], sessionIds: ['anything'] });
    expect(ids).toEqual([]);
    expect(statuses.map((status) => status.status)).toEqual(['NOT_APPLICABLE', 'NOT_APPLICABLE']);
    expect(warnings).toHaveLength(2);
    expect(upstreamRequests()).toBe(0);
  });

  it('refuses malformed addresses, empty lists and over-long values before any upstream call, naming the argument path', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.resetStats();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ clientIps: ['192.0.2.1', '300.1.2.3'] }, 'filter.clientIps[1]'],
      [{ clientIps: ['10.0.0.0/40'] }, 'filter.clientIps[0]'],
      [{ clientIps: [] }, 'filter.clientIps'],
      [{ sessionIds: ['x'.repeat(300)] }, 'filter.sessionIds[0]'],
      [{ userAgents: [] }, 'filter.userAgents'],
      [{ repositoryIds: ['ok', ''] }, 'filter.repositoryIds[1]'],
    ];
    for (const [filter, field] of cases) {
      const response = await setup.query(PAGE, { first: 5, filter });
      expect(response.status).toBe(400);
      expect(response.data).toEqual({ auditEvents: null });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_FILTER', field });
      expect(response.errors?.[0]?.message).toContain(field);
    }
    expect(upstreamRequests()).toBe(0);
  });
});

describe('auditEventBySourceId', () => {
  let setup: TestGateway;
  const LOOKUP = `query ($source: String!, $id: String!) { auditEventBySourceId(source: $source, sourceEventId: $id) { id sourceEventId occurredAt source { sourceId } } }`;
  type Lookup = { auditEventBySourceId: { id: string; sourceEventId: string; occurredAt: string; source: { sourceId: string } } | null };

  beforeAll(async () => {
    // A small request budget, so that a search of Asana's log (it has no lookup by id) runs out.
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-id`, module, size: 3000, seed: 40 + index })), { scanBudgetRequests: 3 });
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('finds an event of every vendor by its vendor id alone, as listing shows it', async () => {
    for (const [sourceId, simulator] of setup.simulators) {
      const events = simulator.expectedEvents(sourceId);
      const wanted = events[events.length - 20]!;
      const response = await setup.query<Lookup>(LOOKUP, { source: sourceId, id: wanted.sourceEventId });
      expect(response.errors).toBeUndefined();
      expect(response.data!.auditEventBySourceId).toMatchObject({ sourceEventId: wanted.sourceEventId, occurredAt: new Date(wanted.occurredAtMs).toISOString(), source: { sourceId } });
      const listed = await setup.query<{ node: { sourceEventId: string } | null }>(`query ($id: ID!) { node(id: $id) { ... on AuditEvent { sourceEventId } } }`, { id: response.data!.auditEventBySourceId!.id });
      expect(listed.data!.node).toEqual({ sourceEventId: wanted.sourceEventId });
    }
  });

  it('answers null for an id the source does not have', async () => {
    for (const sourceId of setup.simulators.keys()) {
      if (sourceId.startsWith('asana')) continue;
      const response = await setup.query<Lookup>(LOOKUP, { source: sourceId, id: 'no-such-event' });
      expect(response.errors).toBeUndefined();
      expect(response.data!.auditEventBySourceId).toBeNull();
    }
  });

  it('says LOOKUP_INCOMPLETE, never a silent null, when a search without lookup runs out of budget', async () => {
    const asana = [...setup.simulators.keys()].find((id) => id.startsWith('asana'))!;
    const response = await setup.query<Lookup>(LOOKUP, { source: asana, id: 'no-such-event' });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'LOOKUP_INCOMPLETE', source: asana });
    const oldest = setup.simulators.get(asana)!.expectedEvents(asana)[0]!;
    const deep = await setup.query<Lookup>(LOOKUP, { source: asana, id: oldest.sourceEventId });
    expect(deep.errors?.[0]?.extensions).toMatchObject({ code: 'LOOKUP_INCOMPLETE' });
  });

  it('refuses an unknown source and a malformed id', async () => {
    const unknown = await setup.query(LOOKUP, { source: 'nope', id: 'x' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE', field: 'source' });
    const empty = await setup.query(LOOKUP, { source: [...setup.simulators.keys()][0], id: '' });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sourceEventId' });
  });
});
