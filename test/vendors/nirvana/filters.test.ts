import { ErrorCode, UpstreamError } from '../../../src/errors';
import { queryMatcher } from '../../../src/sources/query-matcher';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, Direction, SourceQuery, SourceResume } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { nirvanaModule } from '../../../src/vendors/nirvana';
import { startNirvanaSimulator, type NirvanaSimulatorOptions } from '../../../src/vendors/nirvana/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const SIZE = 5_000;
const FILTER_PARAMS = ['action', 'actor_id', 'actor_type', 'client_ip', 'created_at_min', 'created_at_max', 'status_code_min', 'status_code_max', 'target_id', 'target_type'];

/** A simulator, the list queries it received, and its ground truth. */
interface Upstream {
  simulator: RunningSimulator;
  received: URLSearchParams[];
  all: AuditEventModel[];
}

const identity = (event: AuditEventModel) => `${event.occurredAtMs}|${event.sourceEventId}`;
const sortedIds = (events: readonly AuditEventModel[]) => events.map(identity).sort();
const filterParamsOf = (query: URLSearchParams) => FILTER_PARAMS.filter((name) => query.has(name));
const signal = () => AbortSignal.timeout(20_000);

/** Queries on each field Nirvana pushes down, valued from the data so that each matches some events but not all. */
function queriesOn(all: readonly AuditEventModel[]): Array<{ name: string; query: SourceQuery; sends: Record<string, string> }> {
  const sample = all[Math.floor(all.length / 3)]!;
  const withTarget = all.find((event, index) => index > all.length / 2 && event.target)!;
  const ipv4 = all.map((event) => event.request?.clientIp).find((ip, index) => index > 100 && ip && /^[0-9.]+$/.test(ip))!;
  const from = all[Math.floor(all.length * 0.2)]!.occurredAtMs;
  const to = all[Math.floor(all.length * 0.3)]!.occurredAtMs;
  const iso = (ms: number) => new Date(ms).toISOString();
  return [
    { name: 'window', query: { ...NO_FILTER, fromMs: from, toMs: to }, sends: { created_at_min: iso(from), created_at_max: iso(to) } },
    { name: 'actions', query: { ...NO_FILTER, actions: [sample.action] }, sends: { action: sample.action } },
    { name: 'actorIds', query: { ...NO_FILTER, actorIds: [sample.actor.sourceActorId!] }, sends: { actor_id: sample.actor.sourceActorId! } },
    { name: 'actorTypes API_KEY', query: { ...NO_FILTER, actorTypes: ['API_KEY'] }, sends: { actor_type: 'api_key' } },
    { name: 'actorTypes USER', query: { ...NO_FILTER, actorTypes: ['USER'] }, sends: { actor_type: 'user' } },
    { name: 'targetIds', query: { ...NO_FILTER, targetIds: [withTarget.target!.sourceTargetId] }, sends: { target_id: withTarget.target!.sourceTargetId } },
    { name: 'targetTypes', query: { ...NO_FILTER, targetTypes: [withTarget.target!.type] }, sends: { target_type: withTarget.target!.type } },
    { name: 'clientIps', query: { ...NO_FILTER, clientIps: [ipv4] }, sends: { client_ip: ipv4 } },
    { name: 'failed true', query: { ...NO_FILTER, failed: true }, sends: { status_code_min: '400' } },
    { name: 'failed false', query: { ...NO_FILTER, failed: false }, sends: { status_code_max: '399' } },
    {
      name: 'window, actor type, target type and failed together',
      query: { ...NO_FILTER, fromMs: from, toMs: to, actorTypes: ['USER'], targetTypes: ['vm'], failed: false },
      sends: { created_at_min: iso(from), created_at_max: iso(to), actor_type: 'user', target_type: 'vm', status_code_max: '399' },
    },
  ];
}

describe('Nirvana filters pushed upstream, over loopback HTTP', () => {
  const simulators: RunningSimulator[] = [];
  const dataSources: AuditDataSource[] = [];
  let current: Upstream;

  const startUpstream = async (options: Partial<NirvanaSimulatorOptions> = {}, size = SIZE): Promise<Upstream> => {
    const received: URLSearchParams[] = [];
    const simulator = await startNirvanaSimulator({ size, seed: 9, endMs: Date.UTC(2026, 10, 1), observeList: (query) => received.push(new URLSearchParams(query)), ...options });
    simulators.push(simulator);
    return { simulator, received, all: simulator.expectedEvents('nirvana-test') };
  };
  /** A datasource that has learned nothing yet. */
  const fresh = (upstream: Upstream) => {
    const dataSource = dataSourceFor(nirvanaModule, upstream.simulator);
    dataSources.push(dataSource);
    upstream.received.length = 0;
    return dataSource;
  };
  const expectExactly = (returned: readonly AuditEventModel[], all: readonly AuditEventModel[], query: SourceQuery) => {
    const matches = queryMatcher(query);
    const expected = all.filter(matches);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    // The gateway filters again: a datasource may return more, never less.
    expect(sortedIds(returned.filter(matches))).toEqual(sortedIds(expected));
    return expected;
  };

  beforeAll(async () => {
    current = await startUpstream();
  });
  afterAll(async () => {
    await Promise.all(dataSources.map((dataSource) => dataSource.close()));
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  });

  it('declares the fields it pushes down, and keeps recordedFields', () => {
    const dataSource = fresh(current);
    expect([...dataSource.capabilities.nativeFilters].sort()).toEqual(['actions', 'actorIds', 'actorTypes', 'clientIps', 'failed', 'targetIds', 'targetTypes', 'window']);
    expect(dataSource.capabilities.recordedFields).toEqual(['clientIp', 'userAgent', 'failed']);
  });

  describe('on the current API', () => {
    for (const direction of ['DESC', 'ASC'] as const) {
      it(`returns exactly the matching events for each pushed filter, ${direction}, sending it upstream and reading only matching pages`, async () => {
        for (const { name, query, sends } of queriesOn(current.all)) {
          const dataSource = fresh(current);
          const { events, requests } = await readAll(dataSource, direction, query, 100);
          const expected = expectExactly(events, current.all, query);
          // The upstream did the filtering: what came back matches (the window's end is inclusive upstream)…
          const admitted = queryMatcher({ ...query, toMs: query.toMs === null ? null : query.toMs + 1 });
          expect({ name, strays: events.filter((event) => !admitted(event)).length }).toEqual({ name, strays: 0 });
          // …in about one request per 100 matching events, not a scan of the whole log.
          expect({ name, requests: requests <= Math.ceil(expected.length / 100) + 1 }).toEqual({ name, requests: true });
          for (const received of current.received) {
            expect({ name, sent: Object.fromEntries(filterParamsOf(received).map((param) => [param, received.get(param)])) }).toEqual({ name, sent: sends });
          }
        }
      });
    }

    for (const [direction, depth] of [
      ['DESC', 'near the oldest event'],
      ['ASC', 'near the newest event'],
    ] as const) {
      it(`reads a window ${depth} in one request, ${direction}`, async () => {
        const start = direction === 'DESC' ? 200 : SIZE - 300;
        const sorted = [...current.all].sort((a, b) => a.occurredAtMs - b.occurredAtMs);
        const query = { ...NO_FILTER, fromMs: sorted[start]!.occurredAtMs, toMs: sorted[start + 60]!.occurredAtMs };
        const dataSource = fresh(current);
        const { events, requests } = await readAll(dataSource, direction, query, 100);
        expectExactly(events, current.all, query);
        expect(requests).toBe(1);
      });
    }

    it('continues a cursor with the parameters it was issued with, whatever it learned since', async () => {
      const [window, action] = queriesOn(current.all);
      const dataSource = fresh(current);
      const first = await dataSource.listEvents({ direction: 'DESC', query: action!.query, resume: null, limit: 10, signal: signal() });
      expect(first.next).toMatchObject({ f: 1 });
      // Another listing meets a refusal of the filters: from now on new listings send none…
      current.simulator.control.inject({ kind: 'status', status: 422, json: { message: 'unknown parameter' } });
      const refused = await dataSource.listEvents({ direction: 'DESC', query: window!.query, resume: null, limit: 10, signal: signal() });
      expect(refused.events.length).toBeGreaterThan(0);
      expect(refused.next).not.toHaveProperty('f');
      expect(dataSource.capabilities.nativeFilters).toEqual([]);
      // …but the first listing's cursor is tied to its filters, and goes on with them.
      current.received.length = 0;
      const second = await dataSource.listEvents({ direction: 'DESC', query: action!.query, resume: first.next, limit: 10, signal: signal() });
      expect(current.received.map((query) => query.get('action'))).toEqual([action!.sends['action']]);
      const matching = current.all.filter(queryMatcher(action!.query)).sort((a, b) => b.occurredAtMs - a.occurredAtMs);
      expect(sortedIds([...first.events, ...second.events])).toEqual(sortedIds(matching.slice(0, 20)));
    });

    it('continues a cursor issued without filters without them, even for a filtered query', async () => {
      const [, action] = queriesOn(current.all);
      const dataSource = fresh(current);
      const unfiltered = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: signal() });
      expect(unfiltered.next).not.toHaveProperty('f');
      current.received.length = 0;
      const next = await dataSource.listEvents({ direction: 'DESC', query: action!.query, resume: unfiltered.next, limit: 10, signal: signal() });
      expect(next.events).toHaveLength(10);
      expect(current.received.map(filterParamsOf)).toEqual([[]]);
    });

    it('refuses a resume state it did not issue', async () => {
      const dataSource = fresh(current);
      const states: Array<[Direction, SourceResume]> = [
        ['DESC', { c: 'x', f: 2 }],
        ['DESC', { c: 'x', f: true }],
        ['DESC', { c: 'x', g: 1 }],
        ['DESC', { c: 1 }],
        ['DESC', { a: 'x' }],
        ['ASC', { c: 'x' }],
        ['ASC', { w: 'x', p: 'y' }],
        ['ASC', 'x'],
      ];
      for (const [direction, resume] of states) {
        const error = await dataSource.listEvents({ direction, query: NO_FILTER, resume, limit: 10, signal: signal() }).catch((e: unknown) => e);
        expect({ resume, code: (error as UpstreamError).code }).toEqual({ resume, code: ErrorCode.UpstreamCursorExpired });
      }
      expect(current.received).toEqual([]);
    });
  });

  describe('on the legacy API, which ignores the filters', () => {
    let legacyApi: Upstream;
    beforeAll(async () => {
      legacyApi = await startUpstream({ legacyApi: true }, 1_500);
    });

    for (const direction of ['DESC', 'ASC'] as const) {
      it(`still returns exactly the matching events, ${direction}: the gateway's own filter does the work`, async () => {
        for (const { query } of queriesOn(legacyApi.all)) {
          const dataSource = fresh(legacyApi);
          const { events } = await readAll(dataSource, direction, query, 100);
          expectExactly(events, legacyApi.all, query);
        }
      });
    }

    it('learns from an entry the filters exclude that they are ignored, and stops sending them', async () => {
      const [window] = queriesOn(legacyApi.all);
      const dataSource = fresh(legacyApi);
      await dataSource.listEvents({ direction: 'DESC', query: window!.query, resume: null, limit: 10, signal: signal() });
      expect(filterParamsOf(legacyApi.received[0]!)).toEqual(['created_at_min', 'created_at_max']);
      expect(dataSource.capabilities.nativeFilters).toEqual([]);
      await dataSource.listEvents({ direction: 'DESC', query: window!.query, resume: null, limit: 10, signal: signal() });
      expect(filterParamsOf(legacyApi.received[1]!)).toEqual([]);
    });
  });

  describe('on an upstream that refuses the filter parameters with a 400', () => {
    let refusing: Upstream;
    beforeAll(async () => {
      refusing = await startUpstream({ refuseFilters: true });
    });

    it('asks again without them, remembers, and still returns exactly the matching events', async () => {
      const [window] = queriesOn(refusing.all);
      const dataSource = fresh(refusing);
      const first = await dataSource.listEvents({ direction: 'DESC', query: window!.query, resume: null, limit: 100, signal: signal() });
      expect(first.upstreamRequests).toBe(2);
      expect(refusing.received.map(filterParamsOf)).toEqual([['created_at_min', 'created_at_max'], []]);
      expect(dataSource.capabilities.nativeFilters).toEqual([]);
      refusing.received.length = 0;
      const { events } = await readAll(dataSource, 'DESC', window!.query, 100);
      expectExactly(events, refusing.all, window!.query);
      expect(refusing.received.every((query) => filterParamsOf(query).length === 0)).toBe(true);
    });

    it('tells a refused filter from a refused sort: oldest first still uses sort=created_at:asc', async () => {
      const [window] = queriesOn(refusing.all);
      const dataSource = fresh(refusing);
      const { events, requests } = await readAll(dataSource, 'ASC', window!.query, 100);
      expectExactly(events, refusing.all, window!.query);
      expect(dataSource.capabilities.bothOrders).toBe(true);
      expect(refusing.received.slice(0, 2).map((query) => [query.get('sort'), filterParamsOf(query)])).toEqual([
        ['created_at:asc', ['created_at_min', 'created_at_max']],
        ['created_at:asc', []],
      ]);
      // Sorted oldest first, one request a page after the refused one, never walked (the gateway's
      // stream stops at the window's end; this reads on to the end of the log).
      expect(requests).toBe(SIZE / 100 + 1);
      expect(refusing.received.slice(1).every((query) => query.get('sort') === 'created_at:asc')).toBe(true);
    });
  });

  describe('findEvent', () => {
    it('looks an event up by its id alone, in one request, and answers null for an unknown id', async () => {
      const dataSource = fresh(current);
      expect(dataSource.findEvent).toBeDefined();
      const wanted = current.all[1_234]!;
      current.simulator.control.resetStats();
      expect(await dataSource.findEvent!(wanted.sourceEventId, signal())).toEqual(wanted);
      expect(await dataSource.findEvent!(`${wanted.sourceEventId.slice(0, -1)}f`, signal())).toBeNull();
      expect(await dataSource.findEvent!('no-such-event', signal())).toBeNull();
      expect(current.simulator.control.stats.requests).toBe(3);
    });
  });

  describe('countEvents', () => {
    const count = (dataSource: AuditDataSource, query: SourceQuery) => dataSource.countEvents!(query, signal());

    it('counts a query whose every field is pushed down from total_count, once each parameter is proven applied', async () => {
      const [window, , , apiKeys] = queriesOn(current.all);
      const dataSource = fresh(current);
      expect(await count(dataSource, NO_FILTER)).toBe(SIZE);
      current.simulator.control.resetStats();
      expect(await count(dataSource, window!.query)).toBe(current.all.filter(queryMatcher(window!.query)).length);
      // The count, one request per parameter with a value no entry has, and the entries at `toMs`.
      expect(current.simulator.control.stats.requests).toBe(4);
      expect(current.received.slice(-3, -1).map((query) => [...query.keys()].filter((key) => key !== 'limit'))).toEqual([['created_at_min'], ['created_at_max']]);
      current.simulator.control.resetStats();
      const other = { ...NO_FILTER, fromMs: window!.query.fromMs! - 600_000, toMs: window!.query.toMs! + 600_000 };
      expect(await count(dataSource, other)).toBe(current.all.filter(queryMatcher(other)).length);
      expect(current.simulator.control.stats.requests).toBe(2);
      // No value of actor_type matches nothing, so it is never proven: more than a page is not counted.
      expect(await count(dataSource, apiKeys!.query)).toBeNull();
    });

    it('counts a listing of one page itself, whatever the query; beyond a page, only what it can prove', async () => {
      const dataSource = fresh(current);
      const sample = current.all[2_000]!;
      const narrow = { ...NO_FILTER, actorIds: [sample.actor.sourceActorId!], actions: [sample.action], text: sample.action.slice(0, 3) };
      const matching = current.all.filter(queryMatcher(narrow)).length;
      expect(matching).toBeGreaterThan(0);
      expect(matching).toBeLessThan(100);
      expect(await count(dataSource, narrow)).toBe(matching);
      expect(await count(dataSource, { ...NO_FILTER, text: 'vm' })).toBeNull();
    });

    it('on the legacy API, counts the whole log and refuses to guess a filtered total', async () => {
      const legacyApi = await startUpstream({ legacyApi: true }, 1_500);
      const dataSource = fresh(legacyApi);
      const [window] = queriesOn(legacyApi.all);
      expect(await count(dataSource, NO_FILTER)).toBe(1_500);
      expect(await count(dataSource, window!.query)).toBeNull();
    });
  });
});
