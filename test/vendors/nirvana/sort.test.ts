import { ErrorCode, UpstreamError } from '../../../src/errors';
import { compareKeys, keyOf } from '../../../src/connection/order';
import type { AuditDataSource, Direction, SourceResume } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { nirvanaModule } from '../../../src/vendors/nirvana';
import { startNirvanaSimulator, type NirvanaSimulatorOptions } from '../../../src/vendors/nirvana/simulator';
import { NO_FILTER, readAll } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { CREDENTIALS, loadFixture, startNirvanaFixtureUpstream } from './fixture-upstream';

const SIZE = 1_000;
const signal = () => AbortSignal.timeout(20_000);

/** A simulator and the list queries it received. */
interface Upstream {
  simulator: RunningSimulator;
  received: URLSearchParams[];
}

describe('Nirvana explicit sort, over loopback HTTP', () => {
  const simulators: RunningSimulator[] = [];
  const dataSources: AuditDataSource[] = [];
  afterAll(async () => {
    await Promise.all(dataSources.map((dataSource) => dataSource.close()));
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  });

  const startUpstream = async (options: Partial<NirvanaSimulatorOptions> = {}): Promise<Upstream> => {
    const received: URLSearchParams[] = [];
    const simulator = await startNirvanaSimulator({ size: SIZE, seed: 11, endMs: Date.UTC(2026, 10, 1), observeList: (query) => received.push(new URLSearchParams(query)), ...options });
    simulators.push(simulator);
    return { simulator, received };
  };
  const fresh = (upstream: Upstream) => {
    const dataSource = dataSourceFor(nirvanaModule, upstream.simulator);
    dataSources.push(dataSource);
    upstream.received.length = 0;
    return dataSource;
  };
  const sorts = (upstream: Upstream) => upstream.received.map((query) => query.get('sort'));
  /** Reads the whole log in `direction` and checks it is exactly the simulator's, in order once sorted. */
  const readsExactly = async (upstream: Upstream, dataSource: AuditDataSource, direction: Direction) => {
    const { events, requests } = await readAll(dataSource, direction, NO_FILTER, 100);
    const truth = upstream.simulator.expectedEvents(dataSource.sourceId).sort((a, b) => compareKeys(keyOf(a), keyOf(b), direction));
    expect(events.map(keyOf).sort((a, b) => compareKeys(a, b, direction))).toEqual(truth.map(keyOf));
    return requests;
  };
  const first = (dataSource: AuditDataSource, direction: Direction, resume: SourceResume | null = null) =>
    dataSource.listEvents({ direction, query: NO_FILTER, resume, limit: 10, signal: signal() });

  describe('newest first', () => {
    it('sends sort=created_at:desc on every request where the upstream honours it: one request a page', async () => {
      const upstream = await startUpstream();
      const dataSource = fresh(upstream);
      expect(await readsExactly(upstream, dataSource, 'DESC')).toBe(SIZE / 100);
      expect(new Set(sorts(upstream))).toEqual(new Set(['created_at:desc']));
      expect((await first(dataSource, 'DESC')).next).toMatchObject({ s: 'd' });
    });

    it('keeps working on the legacy API, which ignores sort and lists newest first anyway', async () => {
      const upstream = await startUpstream({ legacyApi: true });
      const dataSource = fresh(upstream);
      expect(await readsExactly(upstream, dataSource, 'DESC')).toBe(SIZE / 100);
      expect(new Set(sorts(upstream))).toEqual(new Set(['created_at:desc']));
    });

    it('falls back to no sort when the upstream refuses sort=created_at:desc (400), and remembers', async () => {
      const upstream = await startUpstream({ refuseSorts: ['created_at:desc'] });
      const dataSource = fresh(upstream);
      const firstPage = await first(dataSource, 'DESC');
      expect(firstPage.upstreamRequests).toBe(2);
      expect(firstPage.next).not.toHaveProperty('s');
      expect(sorts(upstream)).toEqual(['created_at:desc', null]);
      upstream.received.length = 0;
      expect(await readsExactly(upstream, dataSource, 'DESC')).toBe(SIZE / 100);
      expect(new Set(sorts(upstream))).toEqual(new Set([null]));
    });

    it('tells a refused sort from refused filters when an upstream refuses both, and learns each', async () => {
      const upstream = await startUpstream({ refuseSorts: ['created_at:desc'], refuseFilters: true });
      const dataSource = fresh(upstream);
      const window = { ...NO_FILTER, fromMs: Date.UTC(2026, 9, 1), toMs: Date.UTC(2026, 10, 1) };
      const page = await dataSource.listEvents({ direction: 'DESC', query: window, resume: null, limit: 10, signal: signal() });
      expect(page.events.length).toBeGreaterThan(0);
      expect(upstream.received.map((query) => [query.get('sort'), query.has('created_at_min')])).toEqual([
        ['created_at:desc', true],
        ['created_at:desc', false],
        [null, true],
        [null, false],
      ]);
      expect(dataSource.capabilities.nativeFilters).toEqual([]);
      upstream.received.length = 0;
      await dataSource.listEvents({ direction: 'DESC', query: window, resume: null, limit: 10, signal: signal() });
      expect(upstream.received.map((query) => [query.get('sort'), query.has('created_at_min')])).toEqual([[null, false]]);
    });

    it('detects an upstream that answers sort=created_at:desc oldest first, and lists without sort from then on', async () => {
      const upstream = await startUpstream({ reverseSort: true });
      const dataSource = fresh(upstream);
      const firstPage = await first(dataSource, 'DESC');
      expect(firstPage.upstreamRequests).toBe(2);
      expect(sorts(upstream)).toEqual(['created_at:desc', null]);
      upstream.received.length = 0;
      expect(await readsExactly(upstream, dataSource, 'DESC')).toBe(SIZE / 100);
      expect(new Set(sorts(upstream))).toEqual(new Set([null]));
    });

    it('fails with a protocol error, never a wrong order, on an upstream that lists oldest first whatever it is asked', async () => {
      const ascendingPages = loadFixture('current-listing.json').pages!.filter((page) => page.sort === 'created_at:asc');
      const server = await startNirvanaFixtureUpstream(ascendingPages, { sort: 'ignored' });
      const dataSource = dataSourceFor(nirvanaModule, { baseUrl: server.baseUrl, credentials: CREDENTIALS });
      try {
        const error = await first(dataSource, 'DESC').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamError);
        expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamProtocolError);
        expect(server.requests.map((request) => request.query.get('sort'))).toEqual(['created_at:desc', null]);
      } finally {
        await dataSource.close();
        await server.close();
      }
    });
  });

  describe('oldest first', () => {
    it('walks with sort=created_at:desc where only created_at:asc is refused, each state carrying the sort it was issued with', async () => {
      const upstream = await startUpstream({ refuseSorts: ['created_at:asc'] });
      const dataSource = fresh(upstream);
      const requests = await readsExactly(upstream, dataSource, 'ASC');
      expect(requests).toBeGreaterThanOrEqual(2 * (SIZE / 100));
      expect(sorts(upstream)[0]).toBe('created_at:asc');
      expect(new Set(sorts(upstream).slice(1))).toEqual(new Set(['created_at:desc']));
      expect(dataSource.capabilities.bothOrders).toBe(false);
      const walking = await first(dataSource, 'ASC');
      expect(walking.next).toMatchObject({ w: expect.any(String), s: 'd' });
    });

    it('walks without any sort where both are refused', async () => {
      const upstream = await startUpstream({ refuseSorts: ['created_at:asc', 'created_at:desc'] });
      const dataSource = fresh(upstream);
      await readsExactly(upstream, dataSource, 'ASC');
      expect(sorts(upstream).slice(0, 3)).toEqual(['created_at:asc', 'created_at:desc', null]);
      expect(new Set(sorts(upstream).slice(2))).toEqual(new Set([null]));
    });

    it('detects an upstream that answers sort=created_at:asc newest first, and walks that listing with the same sort', async () => {
      const upstream = await startUpstream({ reverseSort: true });
      const dataSource = fresh(upstream);
      await readsExactly(upstream, dataSource, 'ASC');
      expect(new Set(sorts(upstream))).toEqual(new Set(['created_at:asc']));
      expect(dataSource.capabilities.bothOrders).toBe(false);
    });
  });

  describe('resume states', () => {
    it('continue with the sort they were issued with, whatever the datasource learned since', async () => {
      const upstream = await startUpstream();
      const dataSource = fresh(upstream);
      const sorted = await first(dataSource, 'DESC');
      expect(sorted.next).toMatchObject({ s: 'd' });
      // A later listing meets a refusal of the sort: new listings go without it…
      upstream.simulator.control.inject({ kind: 'status', status: 400, json: { message: 'unsupported sort' } });
      const unsorted = await first(dataSource, 'DESC');
      expect(unsorted.next).not.toHaveProperty('s');
      upstream.received.length = 0;
      // …but each cursor is tied to its sort (the simulator refuses it with any other), and goes on with it.
      const continuedSorted = await first(dataSource, 'DESC', sorted.next);
      const continuedUnsorted = await first(dataSource, 'DESC', unsorted.next);
      expect(sorts(upstream)).toEqual(['created_at:desc', null]);
      expect(continuedSorted.next).toMatchObject({ s: 'd' });
      expect(continuedUnsorted.next).not.toHaveProperty('s');
      expect(continuedSorted.events.map((event) => event.sourceEventId)).toEqual(continuedUnsorted.events.map((event) => event.sourceEventId));
    });

    it('issued before the datasource sent sort=created_at:desc continue without it', async () => {
      const upstream = await startUpstream();
      const cursor = (await (await fetch(`${upstream.simulator.baseUrl}/v1/audit_logs?limit=10`, { headers: { authorization: `Bearer ${upstream.simulator.credentials['apiKey']}` } })).json()) as {
        pagination: { next_cursor: string };
      };
      const dataSource = fresh(upstream);
      const continued = await first(dataSource, 'DESC', { c: cursor.pagination.next_cursor });
      expect(continued.events).toHaveLength(10);
      expect(sorts(upstream)).toEqual([null]);
    });

    it('are refused when they carry a sort their key cannot have', async () => {
      const upstream = await startUpstream();
      const dataSource = fresh(upstream);
      const states: Array<[Direction, SourceResume]> = [
        ['DESC', { c: 'x', s: 'a' }],
        ['DESC', { c: 'x', s: 'desc' }],
        ['DESC', { c: 'x', s: null }],
        ['ASC', { a: 'x', s: 'd' }],
        ['ASC', { a: 'x', s: 'a' }],
        ['ASC', { w: 'x', s: 1 }],
        ['ASC', { p: 'x', s: 'd', f: 2 }],
      ];
      for (const [direction, resume] of states) {
        const error = await first(dataSource, direction, resume).catch((e: unknown) => e);
        expect({ resume, code: (error as UpstreamError).code }).toEqual({ resume, code: ErrorCode.UpstreamCursorExpired });
      }
      expect(upstream.received).toEqual([]);
    });
  });
});
