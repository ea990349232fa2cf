import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { nirvanaRecord, startNirvanaSimulator, type NirvanaSimulatorOptions } from '../../../src/vendors/nirvana/simulator';
import type { RawNirvanaAuditLog, RawNirvanaAuditLogList } from '../../../src/vendors/nirvana/wire-types';

type Params = Record<string, string | number | undefined>;

const SIZE = 3_000;

describe('Nirvana simulator list filters', () => {
  const simulators: RunningSimulator[] = [];
  let current: RunningSimulator;
  let all: RawNirvanaAuditLog[];

  const start = async (options: Partial<NirvanaSimulatorOptions> = {}) => {
    const simulator = await startNirvanaSimulator({ size: SIZE, seed: 5, endMs: Date.UTC(2026, 9, 1), ...options });
    simulators.push(simulator);
    return simulator;
  };
  const get = async (simulator: RunningSimulator, params: Params) => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
    const response = await fetch(`${simulator.baseUrl}/v1/audit_logs?${query}`, { headers: { authorization: `Bearer ${simulator.credentials['apiKey']}` } });
    return { status: response.status, body: (await response.json()) as RawNirvanaAuditLogList & { message?: string } };
  };
  /** Every page of a listing through `next_cursor`, checking `total_count` on each. */
  const readEvery = async (simulator: RunningSimulator, params: Params) => {
    const items: RawNirvanaAuditLog[] = [];
    const totals = new Set<number | undefined>();
    let cursor: string | null = null;
    for (let guard = 0; guard < 1_000; guard++) {
      const { status, body } = await get(simulator, { ...params, limit: 100, ...(cursor ? { cursor } : {}) });
      expect(status).toBe(200);
      items.push(...body.items);
      totals.add(body.pagination?.total_count);
      cursor = body.pagination?.next_cursor ?? null;
      if (!cursor) return { items, totals: [...totals] };
      // A cursor is given only while a matching entry lies beyond it.
      expect(body.items).toHaveLength(100);
    }
    throw new Error('listing did not end');
  };
  const ids = (records: readonly RawNirvanaAuditLog[]) => records.map((record) => record.id);
  const at = (record: RawNirvanaAuditLog) => Date.parse(record.created_at);

  beforeAll(async () => {
    current = await start();
    all = Array.from({ length: SIZE }, (_, index) => nirvanaRecord(current.dataset, index));
  });
  afterAll(async () => {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  });

  const sample = () => all[1_234]!;
  const withTarget = () => all.find((record, index) => index > 1_000 && record.target)!;
  const cases: Array<[string, () => Params, (record: RawNirvanaAuditLog) => boolean]> = [
    ['action (exact)', () => ({ action: sample().action! }), (record) => record.action === sample().action],
    ['actor_id', () => ({ actor_id: sample().actor.id }), (record) => record.actor.id === sample().actor.id],
    ['actor_type=api_key', () => ({ actor_type: 'api_key' }), (record) => record.actor.type === 'api_key'],
    ['actor_type=user', () => ({ actor_type: 'user' }), (record) => record.actor.type === 'user'],
    ['client_ip (exact text)', () => ({ client_ip: sample().client_ip }), (record) => record.client_ip === sample().client_ip],
    ['method', () => ({ method: 'DELETE' }), (record) => record.method === 'DELETE'],
    ['path (case-insensitive substring)', () => ({ path: 'NETWORKING/Fire' }), (record) => record.path.includes('networking/fire')],
    ['status_code_min', () => ({ status_code_min: 400 }), (record) => record.status_code >= 400],
    ['status_code_max', () => ({ status_code_max: 399 }), (record) => record.status_code <= 399],
    ['status_code_min and _max (inclusive)', () => ({ status_code_min: 404, status_code_max: 404 }), (record) => record.status_code === 404],
    ['target_id', () => ({ target_id: withTarget().target!.id }), (record) => record.target?.id === withTarget().target!.id],
    ['target_type', () => ({ target_type: 'vpc' }), (record) => record.target?.type === 'vpc'],
    [
      'created_at_min and _max (inclusive)',
      () => ({ created_at_min: all[1_000]!.created_at, created_at_max: all[1_400]!.created_at }),
      (record) => at(record) >= at(all[1_000]!) && at(record) <= at(all[1_400]!),
    ],
    [
      'several filters, combined with AND',
      () => ({ created_at_min: all[500]!.created_at, actor_type: 'user', method: 'GET', status_code_max: 299 }),
      (record) => at(record) >= at(all[500]!) && record.actor.type === 'user' && record.method === 'GET' && record.status_code <= 299,
    ],
  ];

  for (const [name, params, matches] of cases) {
    it(`lists exactly the entries matching ${name}, in both sorts, with their total`, async () => {
      const expected = all.filter(matches);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(SIZE);
      const newestFirst = await readEvery(current, params());
      expect(ids(newestFirst.items)).toEqual(ids([...expected].reverse()));
      expect(newestFirst.totals).toEqual([expected.length]);
      const oldestFirst = await readEvery(current, { ...params(), sort: 'created_at:asc' });
      expect(ids(oldestFirst.items)).toEqual(ids(expected));
    });
  }

  it('keeps an instant finer than a millisecond: neither bound is rounded outwards', async () => {
    const entry = all[2_000]!;
    const sameMs = all.filter((record) => record.created_at === entry.created_at);
    const justAfter = entry.created_at.replace('Z', '5Z');
    const min = await readEvery(current, { created_at_min: justAfter });
    expect(min.items.some((record) => record.created_at === entry.created_at)).toBe(false);
    const max = await readEvery(current, { created_at_min: entry.created_at, created_at_max: justAfter });
    expect(ids(max.items).sort()).toEqual(ids(sameMs).sort());
    const offset = await readEvery(current, { created_at_min: entry.created_at.replace('Z', '+00:00'), created_at_max: entry.created_at.replace('Z', '+00:00') });
    expect(ids(offset.items).sort()).toEqual(ids(sameMs).sort());
  });

  it('answers malformed filter values with 400 {message}', async () => {
    for (const params of [
      { created_at_min: 'yesterday' },
      { created_at_max: '2026-02-30T00:00:00Z' },
      { created_at_max: '2026-01-01 00:00:00Z' },
      { status_code_min: '4xx' },
      { status_code_max: '399.5' },
      { actor_type: 'robot' },
    ]) {
      const { status, body } = await get(current, params);
      expect({ params, status }).toEqual({ params, status: 400 });
      expect(body).toEqual({ message: expect.any(String) });
    }
    const twice = await fetch(`${current.baseUrl}/v1/audit_logs?action=vm.created&action=vm.deleted`, { headers: { authorization: `Bearer ${current.credentials['apiKey']}` } });
    expect(twice.status).toBe(400);
  });

  it('takes a cursor only with the filters and sort it was issued for', async () => {
    const first = await get(current, { action: sample().action!, limit: 10 });
    const cursor = first.body.pagination!.next_cursor!;
    expect((await get(current, { action: sample().action!, limit: 10, cursor })).status).toBe(200);
    for (const params of [{ action: 'vm.deleted' }, {}, { action: sample().action!, method: 'GET' }, { action: sample().action!, sort: 'created_at:asc' }]) {
      const { status, body } = await get(current, { ...params, limit: 10, cursor });
      expect({ params, status }).toEqual({ params, status: 400 });
      expect(body.message).toEqual(expect.any(String));
    }
    const unfiltered = (await get(current, { limit: 10 })).body.pagination!.next_cursor!;
    expect((await get(current, { limit: 10, cursor: unfiltered, action: sample().action! })).status).toBe(400);
  });

  it('binds a cursor to its sort: no sort and created_at:desc list alike but do not share cursors', async () => {
    const none = await get(current, { limit: 10 });
    const desc = await get(current, { limit: 10, sort: 'created_at:desc' });
    expect(ids(desc.body.items)).toEqual(ids(all.slice(-10).reverse()));
    expect(ids(none.body.items)).toEqual(ids(desc.body.items));
    expect((await get(current, { limit: 10, cursor: none.body.pagination!.next_cursor!, sort: 'created_at:desc' })).status).toBe(400);
    expect((await get(current, { limit: 10, cursor: desc.body.pagination!.next_cursor! })).status).toBe(400);
    const next = await get(current, { limit: 10, cursor: desc.body.pagination!.next_cursor!, sort: 'created_at:desc' });
    expect(ids(next.body.items)).toEqual(ids(all.slice(-20, -10).reverse()));
    expect((await get(current, { limit: 10, sort: 'created_at' })).status).toBe(400);
  });

  it('with refuseSorts answers those sort values with 400 {message}, and takes the others', async () => {
    const refusing = await start({ refuseSorts: ['created_at:desc'] });
    const refused = await get(refusing, { limit: 10, sort: 'created_at:desc' });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ message: expect.stringContaining('created_at:desc') });
    expect(ids((await get(refusing, { limit: 10, sort: 'created_at:asc' })).body.items)).toEqual(ids(all.slice(0, 10)));
    expect(ids((await get(refusing, { limit: 10 })).body.items)).toEqual(ids(all.slice(-10).reverse()));
  });

  it('with reverseSort lists each explicit sort the other way round, and no sort newest first', async () => {
    const reversed = await start({ reverseSort: true });
    expect(ids((await get(reversed, { limit: 10, sort: 'created_at:desc' })).body.items)).toEqual(ids(all.slice(0, 10)));
    expect(ids((await get(reversed, { limit: 10, sort: 'created_at:asc' })).body.items)).toEqual(ids(all.slice(-10).reverse()));
    expect(ids((await get(reversed, { limit: 10 })).body.items)).toEqual(ids(all.slice(-10).reverse()));
  });

  it('ends a filtered listing on its last page: no cursor leads to an empty page', async () => {
    const window = { created_at_min: all[100]!.created_at, created_at_max: all[149]!.created_at };
    const { body } = await get(current, { ...window, limit: 100 });
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.pagination).toEqual({ next_cursor: null, previous_cursor: null, total_count: body.items.length });
    const none = await get(current, { created_at_min: '2030-01-01T00:00:00Z' });
    expect(none.body).toEqual({ items: [], pagination: { next_cursor: null, previous_cursor: null, total_count: 0 } });
  });

  it('walks back through previous_cursor within the same filters', async () => {
    const params = { target_type: 'vm' };
    const expected = all.filter((record) => record.target?.type === 'vm');
    const newest = await get(current, { ...params, limit: 100 });
    const second = await get(current, { ...params, limit: 100, cursor: newest.body.pagination!.next_cursor! });
    const back = await get(current, { ...params, limit: 100, cursor: second.body.pagination!.previous_cursor! });
    expect(ids(back.body.items)).toEqual(ids(newest.body.items));
    expect(ids(second.body.items)).toEqual(ids(expected.slice(-200, -100).reverse()));
  });

  it('in legacyApi mode ignores every filter and sort, malformed or not, as the legacy API did', async () => {
    const legacyApi = await start({ legacyApi: true });
    for (const params of [{ action: sample().action! }, { created_at_min: 'yesterday', status_code_min: '4xx', sort: 'created_at:asc' }]) {
      const { status, body } = await get(legacyApi, { ...params, limit: 10 });
      expect(status).toBe(200);
      expect(ids(body.items)).toEqual(ids(all.slice(-10).reverse()));
      expect(body.pagination!.total_count).toBe(SIZE);
    }
    const cursor = (await get(legacyApi, { action: 'vm.created', limit: 10 })).body.pagination!.next_cursor!;
    expect((await get(legacyApi, { limit: 10, cursor })).status).toBe(200);
  });

  it('with refuseFilters answers any filter parameter with 400 {message}, and still sorts', async () => {
    const seen: string[] = [];
    const refusing = await start({ refuseFilters: true, observeList: (query) => seen.push(query.toString()) });
    const refused = await get(refusing, { target_type: 'vm', limit: 10 });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ message: expect.stringContaining('target_type') });
    const sorted = await get(refusing, { sort: 'created_at:asc', limit: 10 });
    expect(ids(sorted.body.items)).toEqual(ids(all.slice(0, 10)));
    expect(seen).toEqual(['target_type=vm&limit=10', 'sort=created_at%3Aasc&limit=10']);
  });
});
