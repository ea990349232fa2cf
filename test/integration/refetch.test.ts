import { encodeGlobalId } from '../../src/connection/global-id';
import type { AuditEventModel } from '../../src/models/audit-event';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on AuditEvent { action occurredAt sourceEventId source { sourceId } } } }`;

interface NodesData {
  nodes: Array<{ id: string; action: string; occurredAt: string; sourceEventId: string; source: { sourceId: string } } | null>;
}

const idOf = (event: AuditEventModel) =>
  encodeGlobalId({ type: 'AuditEvent', sourceId: event.sourceId, occurredAtMs: event.occurredAtMs, sourceEventId: event.sourceEventId });

describe('nodes(ids:) refetches events in batches per source', () => {
  let setup: TestGateway;

  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module) => ({ id: `${module.vendor}-main`, module, size: 1500, seed: 21 })));
  });
  afterAll(async () => {
    await setup?.close();
  });

  /** 40 neighbouring events of a source, as a page would list them, from the simulator's own data. */
  const pageOf = (sourceId: string): AuditEventModel[] => setup.simulators.get(sourceId)!.expectedEvents(sourceId).slice(700, 740).reverse();

  for (const module of modules) {
    const sourceId = `${module.vendor}-main`;
    it(`${module.vendor}: finds 40 events of a page and an absent one, in the order asked, in few upstream calls`, async () => {
      const control = setup.simulators.get(sourceId)!.control;
      const events = pageOf(sourceId);
      const absent = encodeGlobalId({ type: 'AuditEvent', sourceId, occurredAtMs: events[5]!.occurredAtMs, sourceEventId: 'no-such-event' });
      const ids = [...events.map(idOf), absent];
      control.resetStats();

      const response = await setup.query<NodesData>(NODES, { ids });
      expect(response.errors).toBeUndefined();
      expect(response.data!.nodes.slice(0, 40).map((node) => node && [node.id, node.action, Date.parse(node.occurredAt), node.source.sourceId])).toEqual(
        events.map((event) => [idOf(event), event.action, event.occurredAtMs, sourceId]),
      );
      expect(response.data!.nodes[40]).toBeNull();
      const calls = control.stats.requests;
      if (setup.gateway.sources.get(sourceId)!.dataSource.capabilities.nativeFilters.includes('window')) {
        // One window read for the 40 (an auth exchange, a second endpoint or a closing empty page
        // at most), and one exact lookup for the id the window did not hold.
        expect(calls).toBeLessThanOrEqual(5);
      } else {
        // No window filter upstream: one lookup by id each, all in one batch.
        expect(calls).toBe(ids.length);
      }

      // Found events are remembered: asking again costs only the absent one.
      control.resetStats();
      const again = await setup.query<NodesData>(NODES, { ids });
      expect(again.data).toEqual(response.data);
      expect(control.stats.requests).toBeLessThanOrEqual(2);
    });
  }

  it('answers ids of every source in one request, each source read once for its own', async () => {
    const ids = modules.flatMap((module) => pageOf(`${module.vendor}-main`).slice(0, 12).map(idOf));
    const response = await setup.query<NodesData>(NODES, { ids });
    expect(response.errors).toBeUndefined();
    expect(response.data!.nodes.map((node) => node?.id)).toEqual(ids);
  });

  it('nulls the ids of a failing source with an error at their index; the others answer', async () => {
    const failing = 'complianceagent-main';
    const healthy = modules.map((module) => `${module.vendor}-main`).find((sourceId) => sourceId !== failing)!;
    const failingIds = setup.simulators.get(failing)!.expectedEvents(failing).slice(10, 13).map(idOf);
    const healthyIds = pageOf(healthy).slice(0, 2).map(idOf);
    const control = setup.simulators.get(failing)!.control;
    control.knobs.errorRate = 1;
    try {
      const response = await setup.query<NodesData>(NODES, { ids: [healthyIds[0], ...failingIds, healthyIds[1]] });
      expect(response.status).toBe(200);
      expect(response.data!.nodes.map((node) => node?.id ?? null)).toEqual([healthyIds[0], null, null, null, healthyIds[1]]);
      const located = (response.errors ?? []).map((error) => [error.path, error.extensions?.['code'], error.extensions?.['source']]);
      expect(located).toEqual([1, 2, 3].map((index) => [['nodes', index], 'UPSTREAM_UNAVAILABLE', failing]));
    } finally {
      control.knobs.errorRate = 0;
    }
  });

  it('nulls a malformed id with INVALID_ID at its index', async () => {
    const good = idOf(pageOf('nirvana-main')[0]!);
    const response = await setup.query<NodesData>(NODES, { ids: ['not-an-id!', good] });
    expect(response.data!.nodes.map((node) => node?.id ?? null)).toEqual([null, good]);
    expect(response.errors?.map((error) => [error.path, error.extensions?.['reason']])).toEqual([[['nodes', 0], 'INVALID_ID']]);
  });

  it('refuses no ids, or more than 100, as BAD_USER_INPUT', async () => {
    for (const ids of [[], Array.from({ length: 101 }, () => 'x')]) {
      const response = await setup.query<NodesData>(NODES, { ids });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE' });
      expect(response.errors?.[0]?.message).toBe(`ids must hold between 1 and 100 ids (got ${ids.length})`);
    }
  });
});
