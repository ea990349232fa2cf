import { vendorModules } from '../../src/vendors';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

interface NestedPage {
  auditEvents: {
    nodes: Array<{
      actor: { node: { id: string; events: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } };
      target: { node: { id: string; events: { nodes: Array<{ id: string }> } } } | null;
    }>;
  };
}

interface DirectPage {
  auditEvents: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const NESTED = `{ auditEvents(first: 50) { nodes {
  actor { node { id events(first: 5) { nodes { id } pageInfo { hasNextPage endCursor } } } }
  target { node { id events(first: 3) { nodes { id } } } }
} } }`;
const DIRECT = `query ($filter: AuditEventFilter, $first: Int, $after: String) { auditEvents(first: $first, after: $after, filter: $filter) { nodes { id } pageInfo { hasNextPage endCursor } } }`;

const modules = Object.values(vendorModules).filter((module) => module !== undefined);

describe('nested Actor.events and Target.events', () => {
  let setup: TestGateway;
  const totalRequests = () => [...setup.simulators.values()].reduce((sum, simulator) => sum + simulator.control.stats.requests, 0);

  beforeAll(async () => {
    setup = await startTestGateway(
      modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: 400, seed: 21 + index })),
      { scanBudgetRequests: 40 },
    );
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('lists for each owner exactly what its own connection lists, including the next page', async () => {
    const nested = await setup.query<NestedPage>(NESTED);
    expect(nested.errors).toBeUndefined();
    const actors = new Map(nested.data!.auditEvents.nodes.map((node) => [node.actor.node.id, node.actor.node.events]));
    expect(actors.size).toBeGreaterThan(3);
    for (const [actorId, events] of actors) {
      const direct = await setup.query<DirectPage>(DIRECT, { first: 5, filter: { actorIds: [actorId] } });
      expect(events.nodes.map((node) => node.id)).toEqual(direct.data!.auditEvents.nodes.map((node) => node.id));
      expect(events.pageInfo.hasNextPage).toBe(direct.data!.auditEvents.pageInfo.hasNextPage);
      if (events.pageInfo.hasNextPage) {
        const next = await setup.query<DirectPage>(DIRECT, { first: 5, after: events.pageInfo.endCursor, filter: { actorIds: [actorId] } });
        const directNext = await setup.query<DirectPage>(DIRECT, { first: 5, after: direct.data!.auditEvents.pageInfo.endCursor, filter: { actorIds: [actorId] } });
        expect(next.errors).toBeUndefined();
        expect(next.data!.auditEvents.nodes.map((node) => node.id)).toEqual(directNext.data!.auditEvents.nodes.map((node) => node.id));
      }
    }
    for (const node of nested.data!.auditEvents.nodes) {
      if (!node.target) continue;
      const direct = await setup.query<DirectPage>(DIRECT, { first: 3, filter: { targetIds: [node.target.node.id] } });
      expect(node.target.node.events.nodes.map((n) => n.id)).toEqual(direct.data!.auditEvents.nodes.map((n) => n.id));
    }
  });

  it('makes a bounded number of upstream calls, not one traversal per owner', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.resetStats();
    const nested = await setup.query<NestedPage>(NESTED);
    expect(nested.errors).toBeUndefined();
    const owners = new Set(nested.data!.auditEvents.nodes.flatMap((node) => [node.actor.node.id, node.target?.node.id ?? 'none'])).size;
    const calls = totalRequests();
    // The list, then one shared traversal for actors and one for targets, each within the
    // per-source budget: 3 traversals x sources x budget at the very most.
    expect(calls).toBeLessThanOrEqual(3 * modules.length * 40);
    expect(owners).toBeGreaterThan(10);
    // Versus the same answer built by asking each owner alone (a fresh gateway, so no cache helps).
    const alone = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: 400, seed: 21 + index })), { scanBudgetRequests: 40 });
    try {
      await alone.query(`{ auditEvents(first: 50) { nodes { id } } }`);
      for (const actorId of new Set(nested.data!.auditEvents.nodes.map((node) => node.actor.node.id))) {
        await alone.query(DIRECT, { first: 5, filter: { actorIds: [actorId] } });
      }
      for (const targetId of new Set(nested.data!.auditEvents.nodes.flatMap((node) => (node.target ? [node.target.node.id] : [])))) {
        await alone.query(DIRECT, { first: 3, filter: { targetIds: [targetId] } });
      }
      const aloneCalls = [...alone.simulators.values()].reduce((sum, simulator) => sum + simulator.control.stats.requests, 0);
      expect(calls).toBeLessThan(aloneCalls);
    } finally {
      await alone.close();
    }
  });
});

describe('nested connections under a settle window', () => {
  const SETTLE_MS = 10 * 60_000;
  let setup: TestGateway;

  beforeAll(async () => {
    // Older history, then recent activity inside the settle window: events an upstream may still
    // be making visible, which no snapshot may include yet.
    setup = await startTestGateway(
      modules.map((module, index) => ({ id: `${module.vendor}-settle`, module, size: 300, seed: 5 + index, endMs: Date.now() - 60 * 60_000 })),
      { settleWindowMs: SETTLE_MS },
    );
    for (const simulator of setup.simulators.values()) simulator.dataset.append(60, Date.now() - 60_000);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('holds the newest events back from Actor.events and Target.events as from auditEvents', async () => {
    const response = await setup.query<{
      auditEvents: {
        asOf: string;
        nodes: Array<{
          actor: { node: { events: { asOf: string; nodes: Array<{ occurredAt: string }> } } };
          target: { node: { events: { asOf: string; nodes: Array<{ occurredAt: string }> } } } | null;
        }>;
      };
    }>(`{ auditEvents(first: 40) { asOf nodes {
      actor { node { events(first: 100) { asOf nodes { occurredAt } } } }
      target { node { events(first: 100) { asOf nodes { occurredAt } } } }
    } } }`);
    expect(response.errors).toBeUndefined();
    const top = response.data!.auditEvents;
    const limit = Date.parse(top.asOf);
    expect(limit).toBeLessThanOrEqual(Date.now() - SETTLE_MS);
    const nested = top.nodes.flatMap((node) => [node.actor.node.events, ...(node.target ? [node.target.node.events] : [])]);
    expect(nested.length).toBeGreaterThan(40);
    for (const connection of nested) {
      expect(Date.parse(connection.asOf)).toBeLessThanOrEqual(Date.now() - SETTLE_MS);
      for (const event of connection.nodes) expect(Date.parse(event.occurredAt)).toBeLessThanOrEqual(Date.parse(connection.asOf));
    }
  });
});
