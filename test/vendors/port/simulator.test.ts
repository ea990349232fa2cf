import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { createPortDataset } from '../../../src/vendors/port/simulator';
import { startPortSimulator } from '../../../src/vendors/port/simulator';

type Json = Record<string, unknown>;

describe('Port simulator', () => {
  let simulator: RunningSimulator;
  let token: string;

  const exchange = (body: unknown) =>
    fetch(`${simulator.baseUrl}/v1/auth/access_token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const audits = (query: string, bearer = token) => fetch(`${simulator.baseUrl}/v1/audit-log?${query}`, { headers: { authorization: `Bearer ${bearer}` } });
  const list = async (query: string): Promise<Json[]> => ((await (await audits(query)).json()) as { audits: Json[] }).audits;
  const at = (record: Json) => Date.parse((record['trigger'] as Json)['at'] as string);

  beforeAll(async () => {
    simulator = await startPortSimulator({ size: 2_000, seed: 11, endMs: Date.UTC(2026, 8, 1) });
    token = ((await (await exchange(simulator.credentials)).json()) as { accessToken: string }).accessToken;
  });
  afterAll(() => simulator.stop());

  it('issues one 3-hour bearer token per credential pair, the same until it expires', async () => {
    const first = (await (await exchange(simulator.credentials)).json()) as Json;
    expect(first).toEqual({ ok: true, accessToken: token, expiresIn: expect.any(Number), tokenType: 'Bearer' });
    expect(first['expiresIn']).toBeGreaterThan(10_790);
    expect(first['expiresIn']).toBeLessThanOrEqual(10_800);
  });

  it('answers 401 to wrong credentials and 422 to a body of the wrong shape', async () => {
    const wrong = await exchange({ ...simulator.credentials, clientSecret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ ok: false, error: 'unauthorized', message: expect.any(String) });
    expect((await exchange({ ...simulator.credentials, scope: 'all' })).status).toBe(422);
    expect((await exchange({ client_id: simulator.credentials['clientId'], client_secret: simulator.credentials['clientSecret'] })).status).toBe(422);
  });

  it('refuses the audit route without a valid token, in Port’s error body', async () => {
    const response = await audits('limit=1', 'not-a-token');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ ok: false, error: 'unauthorized' });
  });

  it('sends the four x-ratelimit headers on every answer', async () => {
    for (const response of [await audits('limit=1'), await audits('limit=0'), await audits('limit=1', 'bad'), await exchange(simulator.credentials)]) {
      for (const name of ['x-ratelimit-period', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) expect(response.headers.get(name)).toMatch(/^\d+$/);
    }
  });

  it('lists {ok, audits} newest first, 10,000 by default, with from and to inclusive', async () => {
    const all = await list('');
    expect(all).toHaveLength(2_000);
    const times = all.map(at);
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const middle = times[1_000]!;
    const exact = await list(`from=${new Date(middle).toISOString()}&to=${new Date(middle).toISOString()}`);
    expect(exact.length).toBe(times.filter((t) => t === middle).length);
    expect((await audits('limit=0')).status).toBe(422);
    expect((await audits('from=yesterday')).status).toBe(422);
  });

  it('applies exploded origin and resources, action, status, entity and identifier filters', async () => {
    const all = await list('');
    const some = await list('origin=UI&origin=github-ocean&resources=entity&resources=run&action=UPDATE&status=SUCCESS');
    expect(some.length).toBeGreaterThan(0);
    expect(some).toEqual(all.filter((r) => ['UI', 'github-ocean'].includes((r['trigger'] as Json)['origin'] as string) && ['entity', 'run'].includes(r['resourceType'] as string) && r['action'] === 'UPDATE' && r['status'] === 'SUCCESS'));
    const entity = (all.find((r) => r['resourceType'] === 'entity')!['context'] as Json)['entity'] as string;
    expect(await list(`entity=${encodeURIComponent(entity)}`)).toEqual(all.filter((r) => (r['context'] as Json)['entity'] === entity));
    const one = all[123]!;
    expect(await list(`identifier=${one['identifier'] as string}`)).toEqual([one]);
    expect(await list('identifier=unknown')).toEqual([]);
    expect((await audits('resources=user')).status).toBe(422);
  });

  it('projects fields with includes', async () => {
    const [record] = await list('limit=1&includes=identifier&includes=trigger');
    expect(Object.keys(record!).sort()).toEqual(['identifier', 'trigger']);
  });

  it('generates Port-like records: users, machine clients, Port itself; UI, API and integration origins; snapshots in diff', async () => {
    const all = await list('');
    const userIds = all.map((r) => ((r['trigger'] as Json)['by'] as Json)['userId']);
    expect(userIds.some((id) => typeof id === 'string' && id.startsWith('auth0|'))).toBe(true);
    expect(userIds.some((id) => typeof id === 'string' && id.endsWith('@clients'))).toBe(true);
    expect(userIds.some((id) => id === undefined)).toBe(true);
    const origins = new Set(all.map((r) => (r['trigger'] as Json)['origin']));
    expect([...origins]).toEqual(expect.arrayContaining(['UI', 'API', 'github-ocean']));
    const update = all.find((r) => r['resourceType'] === 'entity' && r['action'] === 'UPDATE')!;
    expect((update['diff'] as Json)['after']).toMatchObject({ identifier: expect.any(String), title: expect.any(String), blueprint: expect.any(String), properties: expect.any(Object), relations: expect.any(Object) });
    const create = all.find((r) => r['action'] === 'CREATE')!;
    expect((create['diff'] as Json)['before']).toBeNull();
    expect(all.filter((r) => r['status'] === 'FAILURE').every((r) => typeof r['message'] === 'string')).toBe(true);
  });

  it('puts more events in one millisecond than a small limit (an integration resync)', async () => {
    const counts = new Map<number, number>();
    for (const record of await list('')) counts.set(at(record), (counts.get(at(record)) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeGreaterThanOrEqual(30);
  });

  it('is deterministic by seed and size, and keeps only timestamps for a million events', () => {
    const a = createPortDataset({ size: 1_000, seed: 3, endMs: 1e12 });
    const b = createPortDataset({ size: 1_000, seed: 3, endMs: 1e12 });
    expect(Array.from({ length: 1_000 }, (_, i) => a.timeOf(i))).toEqual(Array.from({ length: 1_000 }, (_, i) => b.timeOf(i)));
    // Records are computed per request from (seed, index); building the set costs timestamps only.
    const before = process.memoryUsage().arrayBuffers;
    const big = createPortDataset({ size: 1_000_000, seed: 3 });
    expect(big.size).toBe(1_000_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(40 * 1024 * 1024);
  });
});
