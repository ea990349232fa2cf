import { request } from 'undici';
import { compareKeys, keyOf } from '../../src/connection/order';
import type { AuditEventModel } from '../../src/models/audit-event';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const PAGE_QUERY = `
  query Page($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter, $orderBy: AuditEventOrder) {
    auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      edges { cursor node { id sourceEventId occurredAt action } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }`;

interface PageData {
  auditEvents: {
    edges: Array<{ cursor: string; node: { id: string; sourceEventId: string; occurredAt: string; action: string } }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    totalCount: number | null;
  };
}

describe('Nirvana through the gateway over loopback HTTP', () => {
  const SIZE = 437;
  let setup: TestGateway;
  let expectedDesc: string[];

  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: SIZE }]);
    const truth: AuditEventModel[] = setup.simulators.get('nirvana-main')!.expectedEvents('nirvana-main');
    expectedDesc = [...truth].sort((a, b) => compareKeys(keyOf(a), keyOf(b), 'DESC')).map((event) => event.sourceEventId);
  });

  afterAll(async () => {
    await setup?.close();
  });

  async function page(variables: Record<string, unknown>): Promise<PageData['auditEvents']> {
    const response = await setup.query<PageData>(PAGE_QUERY, variables);
    expect(response.errors).toBeUndefined();
    return response.data!.auditEvents;
  }

  for (const size of [1, 7, 20, 100]) {
    it(`pages forwards through every event exactly once in order, ${size} a page`, async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < SIZE + 2; guard++) {
        const connection: PageData['auditEvents'] = await page({ first: size, after });
        seen.push(...connection.edges.map((edge) => edge.node.sourceEventId));
        expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
        if (!connection.pageInfo.hasNextPage) break;
        expect(connection.edges).toHaveLength(size);
        after = connection.pageInfo.endCursor;
      }
      expect(seen).toEqual(expectedDesc);
    });
  }

  it('pages through N events in about N / 100 upstream requests, never re-reading from the start', async () => {
    const control = setup.simulators.get('nirvana-main')!.control;
    control.resetStats();
    let after: string | null = null;
    let listed = 0;
    for (let guard = 0; guard < SIZE; guard++) {
      const connection: PageData['auditEvents'] = await page({ first: 100, after });
      listed += connection.edges.length;
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(listed).toBe(SIZE);
    // One request per 100 events, plus one look-ahead request at the end.
    expect(control.stats.requests).toBeLessThanOrEqual(Math.ceil(SIZE / 100) + 1);
  });

  it('pages backwards from the end and gets the same order', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    for (let guard = 0; guard < SIZE; guard++) {
      const connection: PageData['auditEvents'] = await page({ last: 50, before });
      seen.unshift(...connection.edges.map((edge) => edge.node.sourceEventId));
      expect(connection.pageInfo.hasNextPage).toBe(before !== null);
      if (!connection.pageInfo.hasPreviousPage) break;
      before = connection.pageInfo.startCursor;
    }
    expect(seen).toEqual(expectedDesc);
  });

  it('lists oldest first on request', async () => {
    const connection = await page({ first: 100, orderBy: { direction: 'ASC' } });
    expect(connection.edges.map((edge) => edge.node.sourceEventId)).toEqual([...expectedDesc].reverse().slice(0, 100));
  });

  it('turns around: a backward page from a forward cursor retraces the forward pages', async () => {
    const first = await page({ first: 30 });
    const second = await page({ first: 30, after: first.pageInfo.endCursor });
    const back = await page({ last: 30, before: second.edges[0]!.cursor });
    expect(back.edges.map((edge) => edge.node.sourceEventId)).toEqual(first.edges.map((edge) => edge.node.sourceEventId));
    expect(back.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: back.edges[0]!.cursor,
      endCursor: back.edges[29]!.cursor,
    });
  });

  it('follows the Relay spec for pageInfo on the first and last pages', async () => {
    const first = await page({ first: 5 });
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0]!.cursor, endCursor: first.edges[4]!.cursor });
    const last = await page({ last: 5 });
    expect(last.edges.map((edge) => edge.node.sourceEventId)).toEqual(expectedDesc.slice(-5));
    expect(last.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: last.edges[0]!.cursor, endCursor: last.edges[4]!.cursor });
    const beyond = await page({ first: 5, after: last.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('gives 20 events when neither first nor last is given, and the exact total', async () => {
    const connection = await page({});
    expect(connection.edges).toHaveLength(20);
    expect(connection.totalCount).toBe(SIZE);
  });

  it('refetches an event by auditEvent(id) and node(id)', async () => {
    const connection = await page({ first: 3 });
    const id = connection.edges[2]!.node.id;
    const response = await setup.query<{ auditEvent: { id: string; sourceEventId: string }; node: { id: string; action: string } }>(
      `query ($id: ID!) { auditEvent(id: $id) { id sourceEventId } node(id: $id) { id ... on AuditEvent { action } } }`,
      { id },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.auditEvent).toEqual({ id, sourceEventId: connection.edges[2]!.node.sourceEventId });
    expect(response.data!.node).toEqual({ id, action: connection.edges[2]!.node.action });
  });

  it('refetches an actor by node(id) and pages its events', async () => {
    const response = await setup.query<{ auditEvents: { nodes: Array<{ actor: { name: string; node: { id: string; sourceActorId: string } } }> } }>(
      `{ auditEvents(first: 1) { nodes { actor { name node { id sourceActorId } } } } }`,
    );
    const actor = response.data!.auditEvents.nodes[0]!.actor;
    const refetched = await setup.query<{ node: { id: string; sourceActorId: string; events: { nodes: Array<{ actor: { name: string; node: { id: string } } }> } } }>(
      `query ($id: ID!) { node(id: $id) { ... on Actor { id sourceActorId events(first: 5) { nodes { actor { name node { id } } } } } } }`,
      { id: actor.node.id },
    );
    expect(refetched.errors).toBeUndefined();
    expect(refetched.data!.node.sourceActorId).toBe(actor.node.sourceActorId);
    expect(refetched.data!.node.events.nodes.length).toBeGreaterThan(0);
    expect(refetched.data!.node.events.nodes.every((node) => node.actor.node.id === actor.node.id)).toBe(true);
    expect(refetched.data!.node.events.nodes[0]!.actor.name).toBe(actor.name);
  });

  it('filters by one action upstream, with an exact total', async () => {
    const truth = setup.simulators.get('nirvana-main')!.expectedEvents('nirvana-main').filter((event) => event.action === 'vm.created');
    const connection = await page({ first: 100, filter: { actions: ['vm.created'] } });
    expect(connection.edges.map((edge) => edge.node.sourceEventId).sort()).toEqual(truth.map((event) => event.sourceEventId).sort());
    expect(connection.totalCount).toBe(truth.length);
  });

  it('filters by several actions in the gateway, which the vendor cannot, and then cannot count', async () => {
    const actions = ['vm.created', 'vpc.deleted'];
    const truth = setup.simulators.get('nirvana-main')!.expectedEvents('nirvana-main').filter((event) => actions.includes(event.action));
    const connection = await page({ first: 100, filter: { actions } });
    expect(connection.edges.map((edge) => edge.node.sourceEventId).sort()).toEqual(truth.map((event) => event.sourceEventId).sort());
    expect(connection.totalCount).toBeNull();
  });

  it('lists the configured source with its capabilities', async () => {
    const response = await setup.query<{ sources: Array<{ sourceId: string; vendor: string; capabilities: { pagingKind: string; maxPageSize: number } }> }>(
      `{ sources { sourceId vendor capabilities { pagingKind maxPageSize } } }`,
    );
    expect(response.data!.sources).toEqual([{ sourceId: 'nirvana-main', vendor: 'NIRVANA', capabilities: { pagingKind: 'CURSOR', maxPageSize: 100 } }]);
  });

  it('answers /healthz and /readyz', async () => {
    const base = setup.gateway.url.replace(/\/graphql$/, '');
    const health = await request(`${base}/healthz`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const ready = await request(`${base}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(((await ready.body.json()) as { sources: unknown[] }).sources).toHaveLength(1);
  });

  it('serves GraphiQL and its assets from the gateway itself', async () => {
    const pageResponse = await request(setup.gateway.url, { headers: { accept: 'text/html' } });
    expect(pageResponse.statusCode).toBe(200);
    const html = await pageResponse.body.text();
    expect(html).toContain('/graphiql/graphiql.min.js');
    expect(html).not.toMatch(/https?:\/\//);
    const base = setup.gateway.url.replace(/\/graphql$/, '');
    for (const asset of ['graphiql.min.js', 'graphiql.min.css', 'react.production.min.js', 'react-dom.production.min.js', 'init.js']) {
      const response = await request(`${base}/graphiql/${asset}`);
      expect(response.statusCode).toBe(200);
      expect((await response.body.text()).length).toBeGreaterThan(100);
    }
  });
});
