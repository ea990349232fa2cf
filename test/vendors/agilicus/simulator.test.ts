import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { startAgilicusSimulator, parseWhen } from '../../../src/vendors/agilicus/simulator';

const NOW = Date.UTC(2026, 5, 15, 12, 30, 0);

describe('parseWhen', () => {
  it('reads ISO-8601 (UTC without a zone) and the human forms', () => {
    expect(parseWhen('2026-06-15T12:30:00.000Z', NOW)).toBe(NOW);
    expect(parseWhen('2026-06-15T12:30:00', NOW)).toBe(NOW);
    expect(parseWhen('2026-06-15T14:30:00+02:00', NOW)).toBe(NOW);
    expect(parseWhen('now', NOW)).toBe(NOW);
    expect(parseWhen('today', NOW)).toBe(Date.UTC(2026, 5, 15));
    expect(parseWhen('now-1day', NOW)).toBe(NOW - 86_400_000);
    expect(parseWhen('now-2hours', NOW)).toBe(NOW - 7_200_000);
    expect(parseWhen('now 30min', NOW)).toBe(NOW + 1_800_000);
    expect(parseWhen('', NOW)).toBeNull();
    expect(parseWhen(null, NOW)).toBeNull();
    expect(parseWhen('last tuesday', NOW)).toBeNaN();
    expect(parseWhen('now-3fortnights', NOW)).toBeNaN();
  });
});

describe('Agilicus simulator over HTTP', () => {
  let simulator: RunningSimulator;

  beforeAll(async () => {
    simulator = await startAgilicusSimulator({ size: 2000, seed: 3, endMs: NOW });
  });

  afterAll(async () => {
    await simulator.stop();
  });

  async function get(path: string, token: string | null = simulator.credentials['token']!): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${simulator.baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('refuses a missing or wrong token with 401 and an ErrorMessage body', async () => {
    for (const token of [null, 'not-the-token']) {
      const { status, body } = await get('/v1/audits', token);
      expect(status).toBe(401);
      expect(Object.keys(body).sort()).toEqual(['error_code', 'error_message']);
    }
  });

  it('refuses an org the token may not read with 403, and serves its own org', async () => {
    expect((await get('/v1/auth_audits?org_id=SomeoneElsesOrg0000000')).status).toBe(403);
    expect((await get(`/v1/auth_audits?org_id=${simulator.credentials['orgId']}`)).status).toBe(200);
  });

  it('applies a default limit of 500, caps it at 5000 and refuses a bad one', async () => {
    const plain = await get('/v1/audits');
    expect(plain.body['limit']).toBe(500);
    expect(plain.body['audits']).toHaveLength(500);
    const capped = await get('/v1/audits?limit=99999');
    expect(capped.body['limit']).toBe(5000);
    expect(capped.body['audits']).toHaveLength(1000);
    for (const bad of ['0', '-3', '2.5', 'ten']) expect((await get(`/v1/audits?limit=${bad}`)).status).toBe(400);
    expect((await get('/v1/audits?dt_from=someday')).status).toBe(400);
  });

  it('lists newest first, records without an id, dt_from inclusive and dt_to exclusive', async () => {
    const { body } = await get('/v1/auth_audits?limit=50');
    const records = body['auth_audits'] as Record<string, unknown>[];
    const times = records.map((record) => Date.parse(record['time'] as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(records.every((record) => !('id' in record) && typeof record['event_name'] === 'string')).toBe(true);

    const at = new Date(times[10]!).toISOString();
    const next = new Date(times[10]! + 1).toISOString();
    const from = (await get(`/v1/auth_audits?limit=5000&dt_from=${at}&dt_to=${next}`)).body['auth_audits'] as Record<string, unknown>[];
    expect(from.length).toBeGreaterThan(0);
    expect(from.every((record) => record['time'] === at)).toBe(true);
    const before = (await get(`/v1/auth_audits?limit=5000&dt_to=${at}`)).body['auth_audits'] as Record<string, unknown>[];
    expect(before.every((record) => Date.parse(record['time'] as string) < times[10]!)).toBe(true);
    expect((await get('/v1/audits?dt_from=now-1day&dt_to=now')).status).toBe(200);
  });

  it('filters each endpoint by its own parameters', async () => {
    const audits = await get('/v1/audits?limit=5000&action=DELETE&api_name=tokens');
    const listed = audits.body['audits'] as Record<string, unknown>[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((record) => record['action'] === 'DELETE' && record['api_name'] === 'tokens')).toBe(true);
    const auth = await get('/v1/auth_audits?limit=5000&event_name=Policy%20Evaluation&result=Denied&upstream_idp=google');
    const denied = auth.body['auth_audits'] as Record<string, unknown>[];
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((record) => record['event_name'] === 'Policy Evaluation' && record['result'] === 'Denied' && record['upstream_idp'] === 'google')).toBe(true);
  });

  it('filters auth records exactly on source_ip, session_id (the record field session) and trace_id', async () => {
    const records = simulator.expectedEvents('s').map((event) => event.raw as Record<string, unknown>).filter((record) => 'event_name' in record);
    const sample = records[records.length >> 1]!;
    for (const [param, field] of [['source_ip', 'source_ip'], ['session_id', 'session'], ['trace_id', 'trace_id']] as const) {
      const whole = sample[field] as string;
      // A value cut short finds only records that hold exactly that text: no prefix matching.
      for (const value of [whole, whole.slice(0, -1)]) {
        const wanted = records.filter((record) => record[field] === value).map((record) => JSON.stringify(record)).sort();
        const { body } = await get(`/v1/auth_audits?limit=5000&${param}=${encodeURIComponent(value)}`);
        const listed = ((body['auth_audits'] ?? []) as Record<string, unknown>[]).map((record) => JSON.stringify(record)).sort();
        expect({ param, value, listed }).toEqual({ param, value, listed: wanted });
        if (value === whole) expect(listed.length).toBeGreaterThan(0);
      }
    }
  });

  it('gives expected events of both kinds, oldest first', () => {
    const events = simulator.expectedEvents('s');
    expect(events).toHaveLength(2000);
    expect(events.filter((event) => event.category === 'AUTHENTICATION' && event.sourceEventId.startsWith('auth:'))).toHaveLength(1000);
    expect(events.every((event, i) => i === 0 || event.occurredAtMs >= events[i - 1]!.occurredAtMs)).toBe(true);
  });
});
