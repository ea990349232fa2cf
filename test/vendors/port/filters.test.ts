import { selectEvents } from '../../../src/connection/filter';
import { queryMatcher } from '../../../src/sources/query-matcher';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, Direction, SourceQuery } from '../../../src/sources/data-source';
import { portModule } from '../../../src/vendors/port';
import { portPushDown } from '../../../src/vendors/port/datasource';
import { startPortSimulator, type RunningPortSimulator } from '../../../src/vendors/port/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

describe('portPushDown', () => {
  const q = (query: Partial<SourceQuery>): SourceQuery => ({ ...NO_FILTER, ...query });

  it('maps one action exactly to action + resources', () => {
    expect(portPushDown(q({ actions: ['entity.created'] }))).toEqual({ params: { resources: ['entity'], action: 'CREATE' }, matchesNothing: false });
    expect(portPushDown(q({ actions: ['entity.deleted', 'blueprint.deleted'] })).params).toEqual({ resources: ['blueprint', 'entity'], action: 'DELETE' });
  });

  it('sends only resources when the actions mix verbs (Port takes one action)', () => {
    expect(portPushDown(q({ actions: ['entity.created', 'entity.updated'] })).params).toEqual({ resources: ['entity'] });
  });

  it('pushes no action filter when any name is not <resource>.<created|updated|deleted>', () => {
    expect(portPushDown(q({ actions: ['entity.created', 'user.login'] })).params).toEqual({});
    expect(portPushDown(q({ actions: ['entity.timer_expired'] })).params).toEqual({});
  });

  it('asks nothing for action names no Port record can have: every Port name ends in .<lower snake case verb>', () => {
    for (const name of ['Token:Create', 'task_deleted', 'CREATE', 'Assertion Request:Denied', 'entity.Created', 'entity.']) {
      expect(portPushDown(q({ actions: [name] })).matchesNothing).toBe(true);
    }
    expect(portPushDown(q({ actions: ['Token:Create', 'entity.timer_expired'] })).matchesNothing).toBe(false);
    // Beside another vendor's names, Port's own are still pushed down.
    expect(portPushDown(q({ actions: ['Token:Create', 'entity.created', 'task_deleted'] }))).toEqual({ params: { resources: ['entity'], action: 'CREATE' }, matchesNothing: false });
    expect(portPushDown(q({ actions: ['vm.created'] })).matchesNothing).toBe(false);
    expect(portPushDown(q({ actions: ['some type.unknown'] })).matchesNothing).toBe(false);
  });

  it('maps target types to resources, intersected with the actions’ resources', () => {
    expect(portPushDown(q({ targetTypes: ['run', 'entity'] })).params).toEqual({ resources: ['entity', 'run'] });
    expect(portPushDown(q({ targetTypes: ['user'] })).params).toEqual({});
    expect(portPushDown(q({ actions: ['entity.updated', 'run.updated'], targetTypes: ['run'] })).params).toEqual({ resources: ['run'], action: 'UPDATE' });
    expect(portPushDown(q({ actions: ['entity.updated'], targetTypes: ['blueprint'] })).matchesNothing).toBe(true);
  });

  it('never sends a target id: entity, blueprint, run_id and webhookId name a resource Port looks up, which may be deleted', () => {
    expect(portPushDown(q({ targetTypes: ['entity'], targetIds: ['payment-api'] })).params).toEqual({ resources: ['entity'] });
    expect(portPushDown(q({ targetTypes: ['blueprint'], targetIds: ['service'] })).params).toEqual({ resources: ['blueprint'] });
    expect(portPushDown(q({ actions: ['run.created'], targetIds: ['r_1'] })).params).toEqual({ resources: ['run'], action: 'CREATE' });
    expect(portPushDown(q({ targetTypes: ['webhook'], targetIds: ['wh_1'] })).params).toEqual({ resources: ['webhook'] });
    expect(portPushDown(q({ targetIds: ['payment-api'] })).params).toEqual({});
  });

  it('leaves actors and text to the gateway (Port has no user filter)', () => {
    expect(portPushDown(q({ actorIds: ['auth0|1'], actorTypes: ['USER'], text: 'deploy' })).params).toEqual({});
  });

  it('sends failed as status: true as FAILURE, false as SUCCESS', () => {
    expect(portPushDown(q({ failed: true })).params).toEqual({ status: 'FAILURE' });
    expect(portPushDown(q({ failed: false })).params).toEqual({ status: 'SUCCESS' });
    expect(portPushDown(q({ actions: ['run.created'], failed: true })).params).toEqual({ resources: ['run'], action: 'CREATE', status: 'FAILURE' });
  });

  it('sends one event id as identifier, and leaves several to the gateway', () => {
    expect(portPushDown(q({ sourceEventIds: ['9b2f5c1e-0d1a-4c37-a0e4-3f1d2b6c7e80'] })).params).toEqual({ identifier: '9b2f5c1e-0d1a-4c37-a0e4-3f1d2b6c7e80' });
    expect(portPushDown(q({ sourceEventIds: ['a', 'b'] })).params).toEqual({});
  });
});

describe('Port filters against the simulator', () => {
  let simulator: RunningPortSimulator;
  let dataSource: AuditDataSource;
  let all: AuditEventModel[];

  beforeAll(async () => {
    simulator = await startPortSimulator({ size: 1_500, seed: 23, endMs: Date.UTC(2026, 6, 1) });
    dataSource = dataSourceFor(portModule, simulator);
    all = simulator.expectedEvents(dataSource.sourceId);
  });
  afterAll(async () => {
    await dataSource.close();
    await simulator.stop();
  });

  const matching = (filter: Parameters<typeof selectEvents>[0], events: AuditEventModel[]) => {
    const selection = selectEvents(filter, [{ id: dataSource.sourceId, recordedFields: dataSource.capabilities.recordedFields }], 'DESC');
    return { query: selection.queries.get(dataSource.sourceId)!, kept: events.filter(selection.matches).map((e) => e.sourceEventId).sort() };
  };

  it('returns only events of a pushed-down action, and every one of them, in fewer requests', async () => {
    const { query, kept } = matching({ actions: ['entity.created'] }, all);
    expect(kept).toEqual(all.filter(queryMatcher(query)).map((e) => e.sourceEventId).sort());
    const filtered = await readAll(dataSource, 'DESC', query, 50);
    expect(filtered.events.every((event) => event.action === 'entity.created')).toBe(true);
    expect(filtered.events.map((e) => e.sourceEventId).sort()).toEqual(kept);
    const unfiltered = await readAll(dataSource, 'DESC', NO_FILTER, 50);
    expect(filtered.requests).toBeLessThan(unfiltered.requests / 3);
  });

  it('returns a superset the gateway narrows when actions mix verbs, in both orders', async () => {
    for (const direction of ['DESC', 'ASC'] as const) {
      const { query, kept } = matching({ actions: ['run.created', 'run.updated', 'webhook.deleted'] }, all);
      const { events } = await readAll(dataSource, direction, query, 20);
      const selection = selectEvents({ actions: ['run.created', 'run.updated', 'webhook.deleted'] }, [{ id: dataSource.sourceId, recordedFields: dataSource.capabilities.recordedFields }], direction);
      expect(events.filter(selection.matches).map((e) => e.sourceEventId).sort()).toEqual(kept);
    }
  });

  it('leaves one entity to the gateway, over a read narrowed to entities, in both orders', async () => {
    const id = all.find((event) => event.target?.type === 'entity')!.target!.sourceTargetId;
    const query: SourceQuery = { ...NO_FILTER, targetTypes: ['entity'], targetIds: [id] };
    for (const direction of ['DESC', 'ASC'] as const) {
      const { kept, events, requests } = await read(query, direction, 100);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept).toEqual(expected(query));
      // Port returned every entity log; the gateway keeps those of the one entity.
      expect(events.every((event) => event.target?.type === 'entity')).toBe(true);
      expect(events.length).toBeGreaterThan(kept.length);
      expect(requests.every((request) => request.query.getAll('resources').join() === 'entity' && !request.query.has('entity'))).toBe(true);
    }
  });

  it('never sends a target id of any type, and the gateway keeps exactly that target’s events', async () => {
    for (const type of ['blueprint', 'run', 'webhook'] as const) {
      const target = all.find((event) => event.target?.type === type)!.target!;
      const query: SourceQuery = { ...NO_FILTER, targetTypes: [type], targetIds: [target.sourceTargetId] };
      const { kept, requests } = await read(query, 'DESC', 200);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept).toEqual(expected(query));
      expect(requests.some((request) => ['entity', 'blueprint', 'run_id', 'webhookId', 'include_deleted_entities'].some((name) => request.query.has(name)))).toBe(false);
    }
  });

  it('sends target types as resources and gets exactly the events of those types, in both orders', async () => {
    const query: SourceQuery = { ...NO_FILTER, targetTypes: ['run', 'webhook'] };
    for (const direction of ['DESC', 'ASC'] as const) {
      const { kept, events, requests } = await read(query, direction, 60);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept).toEqual(expected(query));
      expect(events).toHaveLength(kept.length);
      expect(requests.every((request) => request.query.getAll('resources').sort().join() === 'run,webhook')).toBe(true);
    }
  });

  it('makes no request for a query no Port record can match', async () => {
    const result = await dataSource.listEvents({ direction: 'DESC', query: { ...NO_FILTER, actions: ['entity.created'], targetTypes: ['blueprint'] }, resume: null, limit: 10, signal: AbortSignal.timeout(5_000) });
    expect(result).toEqual({ events: [], next: null, upstreamRequests: 0 });
  });

  it('keeps to a window whose bounds fall inside a millisecond with several events', async () => {
    const counts = new Map<number, number>();
    for (const event of all) counts.set(event.occurredAtMs, (counts.get(event.occurredAtMs) ?? 0) + 1);
    const tied = [...counts].filter(([, n]) => n >= 3).map(([t]) => t).sort((x, y) => x - y);
    const fromMs = tied[1]!;
    const toMs = tied.at(-2)!;
    const query: SourceQuery = { ...NO_FILTER, fromMs, toMs };
    for (const direction of ['DESC', 'ASC'] as const) {
      const { events } = await readAll(dataSource, direction, query, 13);
      // Port applied the window: nothing for the gateway to drop.
      expect(events.map((e) => e.sourceEventId).sort()).toEqual(expected(query));
    }
  });

  /** Reads `query` to the end: the events the gateway keeps, every event returned, and the audit requests sent. */
  async function read(query: SourceQuery, direction: Direction, limit: number) {
    simulator.takeRequests();
    const { events } = await readAll(dataSource, direction, query, limit);
    const kept = events.filter(queryMatcher(query)).map((e) => e.sourceEventId).sort();
    return { kept, events, requests: simulator.takeRequests() };
  }

  const expected = (query: SourceQuery) => all.filter(queryMatcher(query)).map((e) => e.sourceEventId).sort();

  it('sends failed as status and gets exactly the failed (or succeeded) events, in both orders', async () => {
    for (const [failed, status] of [[true, 'FAILURE'], [false, 'SUCCESS']] as const) {
      for (const direction of ['DESC', 'ASC'] as const) {
        const query: SourceQuery = { ...NO_FILTER, failed };
        const { kept, events, requests } = await read(query, direction, 40);
        expect(kept.length).toBeGreaterThan(0);
        expect(kept).toEqual(expected(query));
        // Port applied it: nothing for the gateway to drop.
        expect(events).toHaveLength(kept.length);
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.every((request) => request.query.get('status') === status)).toBe(true);
      }
    }
  });

  it('combines status with the action filter', async () => {
    const query: SourceQuery = { ...NO_FILTER, actions: ['run.updated'], failed: true };
    const { kept, requests } = await read(query, 'DESC', 100);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(expected(query));
    expect(requests.every((request) => request.query.get('status') === 'FAILURE' && request.query.get('action') === 'UPDATE')).toBe(true);
  });

  it('sends one event id as identifier and gets exactly that event', async () => {
    const wanted = all[700]!;
    for (const direction of ['DESC', 'ASC'] as const) {
      const query: SourceQuery = { ...NO_FILTER, sourceEventIds: [wanted.sourceEventId] };
      const { kept, events, requests } = await read(query, direction, 10);
      expect(kept).toEqual([wanted.sourceEventId]);
      expect(events).toEqual([wanted]);
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.every((request) => request.query.get('identifier') === wanted.sourceEventId)).toBe(true);
    }
    const outside: SourceQuery = { ...NO_FILTER, sourceEventIds: [wanted.sourceEventId], fromMs: wanted.occurredAtMs + 1 };
    expect((await read(outside, 'DESC', 10)).events).toEqual([]);
  });

  it('leaves several event ids to the gateway, which keeps exactly those events', async () => {
    const query: SourceQuery = { ...NO_FILTER, sourceEventIds: [all[10]!.sourceEventId, all[1_200]!.sourceEventId] };
    const { kept, requests } = await read(query, 'DESC', 200);
    expect(kept).toEqual(expected(query));
    expect(kept).toHaveLength(2);
    expect(requests.some((request) => request.query.has('identifier'))).toBe(false);
  });

  it('declares exactly the push-downs it makes', () => {
    expect([...dataSource.capabilities.nativeFilters].sort()).toEqual(['actions', 'failed', 'sourceEventIds', 'targetTypes', 'window']);
  });
});
