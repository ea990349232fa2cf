import type { AuditEventModel } from '../../../src/models/audit-event';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { startAsanaSimulator, type AsanaSimulatorOptions } from '../../../src/vendors/asana/simulator';
import type { RawAsanaActor, RawAsanaContext } from '../../../src/vendors/asana/wire-types';

interface Listed {
  status: number;
  headers: Headers;
  body: { data?: { gid: string; created_at: string; actor: { actor_type: string } }[]; next_page?: { offset: string; path: string; uri: string } | null; errors?: { message: string; phrase?: string }[] };
}

async function get(simulator: RunningSimulator, params: Record<string, string> = {}, options: { token?: string; workspace?: string } = {}): Promise<Listed> {
  const workspace = options.workspace ?? simulator.credentials['workspaceGid']!;
  const url = `${simulator.baseUrl}/workspaces/${workspace}/audit_log_events?${new URLSearchParams(params).toString()}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${options.token ?? simulator.credentials['token']!}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Listed['body'] };
}

async function withSimulator(options: Partial<AsanaSimulatorOptions>, run: (simulator: RunningSimulator) => Promise<void>): Promise<void> {
  const simulator = await startAsanaSimulator({ size: 1500, seed: 7, endMs: Date.UTC(2026, 10, 1), ...options });
  try {
    await run(simulator);
  } finally {
    await simulator.stop();
  }
}

describe('Asana simulator', () => {
  let simulator: RunningSimulator;
  beforeAll(async () => {
    simulator = await startAsanaSimulator({ size: 1500, seed: 7, endMs: Date.UTC(2026, 10, 1) });
  });
  afterAll(async () => {
    await simulator.stop();
  });

  it('serves the API under /api/1.0 with the token and workspace it hands out', () => {
    expect(simulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/1\.0$/);
    expect(Object.keys(simulator.credentials).sort()).toEqual(['token', 'workspaceGid']);
  });

  it('refuses a wrong token with 401 Not Authorized', async () => {
    const { status, body } = await get(simulator, {}, { token: 'nope' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toBe('Not Authorized');
  });

  it('refuses another organization with 403 and a malformed gid with 404', async () => {
    expect((await get(simulator, {}, { workspace: '1200000000000999' })).status).toBe(403);
    expect((await get(simulator, {}, { workspace: 'acme' })).status).toBe(404);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ start_at: 'yesterday' }, 'start_at'],
    [{ end_at: '2026-13-01' }, 'end_at'],
    [{ actor_type: 'robot' }, 'actor_type'],
    [{ actor_type: 'user', actor_gid: '1' }, 'actor_gid'],
    [{ offset: 'forged.token.here' }, 'offset'],
  ])('answers 400 for %j, naming the parameter', async (params, name) => {
    const { status, body } = await get(simulator, params);
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toContain(name);
  });

  it('lists up to 1000 events when no limit is given, oldest first', async () => {
    const { body } = await get(simulator);
    expect(body.data).toHaveLength(1000);
    const times = body.data!.map((event) => Date.parse(event.created_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(body.next_page?.uri).toBe(`${simulator.baseUrl}${body.next_page?.path}`);
  });

  it('treats start_at as inclusive and end_at as exclusive', async () => {
    const all = simulator.expectedEvents('s');
    const t = all[700]!.occurredAtMs;
    const { body } = await get(simulator, { start_at: new Date(t).toISOString(), end_at: new Date(t + 1).toISOString(), limit: '100' });
    expect(body.data!.map((event) => event.gid).sort()).toEqual(all.filter((event) => event.occurredAtMs === t).map((event) => event.sourceEventId).sort());
  });

  it('returns next_page null only when nothing matches at all', async () => {
    expect((await get(simulator, { event_type: 'no_such_event', limit: '10' })).body).toEqual({ data: [], next_page: null });
  });

  it('keeps sending next_page after the last event and returns later events from that offset', async () => {
    await withSimulator({ size: 30 }, async (small) => {
      const first = await get(small, { limit: '100' });
      expect(first.body.data).toHaveLength(30);
      const end = await get(small, { limit: '100', offset: first.body.next_page!.offset });
      expect(end.body.data).toEqual([]);
      expect(end.body.next_page?.offset).toEqual(expect.any(String));
      small.dataset.append(3);
      const later = await get(small, { limit: '100', offset: end.body.next_page!.offset });
      expect(later.body.data).toHaveLength(3);
    });
  });

  it('refuses an offset with other filters or past its lifetime', async () => {
    await withSimulator({ offsetTtlMs: 250 }, async (short) => {
      const first = await get(short, { limit: '5' });
      const offset = first.body.next_page!.offset;
      expect((await get(short, { limit: '5', event_type: 'task_deleted', offset })).body.errors?.[0]?.message).toContain('different query parameters');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const expired = await get(short, { limit: '5', offset });
      expect(expired.status).toBe(400);
      expect(expired.body.errors?.[0]?.message).toContain('expired');
    });
  });

  it('rate limits with Retry-After and Asana\'s message, and gives 5xx a phrase', async () => {
    await withSimulator({ knobs: { rateLimitBurst: { every: 1, length: 1, retryAfterSeconds: 7 } } }, async (limited) => {
      await get(limited);
      const refused = await get(limited);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('7');
      expect(refused.body.errors?.[0]?.message).toMatch(/^You've made too many requests/);
      limited.control.knobs.rateLimitBurst = null;
      limited.control.knobs.errorRate = 1;
      const failed = await get(limited);
      expect(failed.status).toBe(503);
      expect(failed.body.errors?.[0]?.phrase).toMatch(/^\d+ \w+ \w+ \w+ softly$/);
    });
  });

  it('forgets events older than the retention before the newest event, unless told to keep them', async () => {
    const options = { size: 200, meanGapMs: 2 * 86_400_000, tieRate: 0 };
    await withSimulator(options, async (kept) => {
      const events = kept.expectedEvents('s');
      const newest = events[events.length - 1]!.occurredAtMs;
      expect(events.length).toBeLessThan(200);
      expect(events.every((event) => event.occurredAtMs >= newest - 90 * 86_400_000)).toBe(true);
      expect((await get(kept, { limit: '100', start_at: '2020-01-01T00:00:00.000Z' })).body.data![0]!.gid).toBe(events[0]!.sourceEventId);
    });
    await withSimulator({ ...options, retentionDays: null }, async (all) => {
      expect(all.expectedEvents('s')).toHaveLength(200);
    });
  });

  it('records rule names, support requesters and OAuth apps only where Asana does, and maps them', async () => {
    // Support staff act rarely: a larger data set has enough of them to show both kinds.
    await withSimulator({ size: 20_000 }, async (large) => expectRealisticContexts(large.expectedEvents('s')));
  });

  function expectRealisticContexts(events: AuditEventModel[]): void {
    const contextOf = (event: AuditEventModel) => (event.raw['context'] ?? {}) as RawAsanaContext;
    const actorTypeOf = (event: AuditEventModel) => (event.raw['actor'] as RawAsanaActor).actor_type;
    const ruled = events.filter((event) => contextOf(event).rule_name !== undefined);
    const requested = events.filter((event) => contextOf(event).on_behalf_of_user_id !== undefined);
    const viaOauth = events.filter((event) => contextOf(event).oauth_app_name !== undefined);
    expect([ruled.length, requested.length, viaOauth.length].every((count) => count > 0)).toBe(true);
    expect(ruled.every((event) => actorTypeOf(event) === 'asana' && event.actor.automation === contextOf(event).rule_name)).toBe(true);
    expect(requested.every((event) => actorTypeOf(event) === 'asana_support' && event.actor.onBehalfOf?.sourceActorId === String(contextOf(event).on_behalf_of_user_id))).toBe(true);
    expect(viaOauth.every((event) => contextOf(event).api_authentication_method === 'oauth' && event.actor.application === contextOf(event).oauth_app_name)).toBe(true);
    // "Sometimes": Asana also acts without a rule, and support without a request.
    expect(events.some((event) => actorTypeOf(event) === 'asana' && event.actor.automation === undefined)).toBe(true);
    expect(events.some((event) => actorTypeOf(event) === 'asana_support' && event.actor.onBehalfOf === undefined)).toBe(true);
    expect(events.filter((event) => event.actor.automation !== undefined)).toEqual(ruled);
    expect(events.filter((event) => event.actor.onBehalfOf !== undefined)).toEqual(requested);
    expect(events.filter((event) => event.actor.application !== undefined)).toEqual(viaOauth);
  }

  it('gives user resources their email and some tasks a subtype, and maps both onto the target', () => {
    const targets = simulator.expectedEvents('s').map((event) => event.target!);
    expect(targets.filter((target) => target.type === 'user').every((target) => target.email?.endsWith('@example.com'))).toBe(true);
    expect(targets.some((target) => target.type === 'task' && target.subtype === 'milestone')).toBe(true);
    expect(targets.every((target) => target.subtype === undefined || target.type === 'task')).toBe(true);
  });

  it('has actors of every documented type', () => {
    const types = new Set(simulator.expectedEvents('s').map((event) => (event.raw['actor'] as { actor_type: string }).actor_type));
    expect([...types].sort()).toEqual(['anonymous', 'asana', 'asana_support', 'external_administrator', 'user']);
  });
});
