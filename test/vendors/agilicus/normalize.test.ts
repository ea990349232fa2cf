import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { JsonObject } from '../../../src/models/json';
import { normalizePage, UnusableRecord } from '../../../src/sources/normalize-page';
import { createLogger } from '../../../src/logger';
import {
  agilicusAuditCategory,
  normalizeAgilicusAudit,
  normalizeAgilicusAuthAudit,
  parseAgilicusAudit,
  parseAgilicusAuthAudit,
  parseAgilicusId,
  parseAgilicusTime,
  withOccurrenceIds,
} from '../../../src/vendors/agilicus/normalize';

const silentLogger = createLogger({ level: 'silent' });

const AUDIT: JsonObject = {
  user_id: 'Uq7aP2mX9cLk3Rt8Yw1BzN',
  org_id: 'Og4kT9vQ2sLm8Xc1Rp7DhA',
  time: '2026-03-14T09:26:53.589Z',
  action: 'CREATE',
  source_ip: '192.0.2.3',
  target_id: 'Tk2jH8nB5vC1xZ9qW4eRtY',
  target_resource_type: 'token',
  api_name: 'tokens',
  token_id: 'Jt1mN6bV3cX8zL2kJ7hGfD',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  session: 'Ss9dF3gH7jK1lZ5xC2vBnM',
};

const AUTH: JsonObject = {
  user_id: 'Uq7aP2mX9cLk3Rt8Yw1BzN',
  upstream_user_id: '104857600000123456789',
  org_id: 'Og4kT9vQ2sLm8Xc1Rp7DhA',
  org_name: 'example-corp',
  time: '2026-03-14T09:26:54.001Z',
  event_name: 'Authentication Request',
  result: 'Success',
  source_ip: '198.51.100.7',
  trace_id: 'a3ce929d0e0e47364bf92f3577b34da6',
  session: 'Ss9dF3gH7jK1lZ5xC2vBnM',
  issuer: 'https://auth.example-corp.agilicus.cloud',
  client_id: 'wiki-client',
  application_name: 'Wiki',
  login_org_id: 'Og4kT9vQ2sLm8Xc1Rp7DhA',
  upstream_idp: 'google',
  user_agent: 'curl/8.7.1',
  request_id: 'Rq3wE5rT7yU9iO1pA3sD5f',
};

describe('normalizeAgilicusAudit', () => {
  it('maps an audit record field by field and keeps the raw record untouched', () => {
    const raw = parseAgilicusAudit(structuredClone(AUDIT));
    const event = normalizeAgilicusAudit(raw, 'agilicus-main');
    expect(event).toMatchObject({
      sourceId: 'agilicus-main',
      vendor: 'agilicus',
      action: 'CREATE',
      category: 'AUTHENTICATION',
      occurredAtMs: Date.UTC(2026, 2, 14, 9, 26, 53, 589),
      actor: { sourceId: 'agilicus-main', sourceActorId: AUDIT['user_id'], type: 'USER', name: null, email: null, organizationId: AUDIT['org_id'] },
      target: { sourceId: 'agilicus-main', sourceTargetId: AUDIT['target_id'], type: 'token', name: null },
      request: { clientIp: '192.0.2.3', traceId: AUDIT['trace_id'], sessionId: AUDIT['session'], userAgent: null, requestId: null },
      details: { kind: 'audit', api_name: 'tokens', org_id: AUDIT['org_id'], token_id: AUDIT['token_id'] },
      failed: null,
    });
    expect(event.raw).toEqual(AUDIT);
    expect(event.sourceEventId).toMatch(/^audit:1773480413589:[0-9a-f]{32}$/);
  });

  it('makes a record without user_id a SYSTEM action and types a target by its API when the resource type is missing', () => {
    const { user_id: _user, target_resource_type: _type, ...legacy } = AUDIT;
    const event = normalizeAgilicusAudit(parseAgilicusAudit(legacy), 's');
    expect(event.actor).toEqual({ sourceId: 's', sourceActorId: null, type: 'SYSTEM', name: null, email: null, organizationId: AUDIT['org_id'] });
    expect(event.target?.type).toBe('tokens');
  });

  it('leaves out only a record without a readable time, as a record that cannot be placed', () => {
    const { time: _time, ...timeless } = AUDIT;
    for (const record of [timeless, { ...AUDIT, time: 'yesterday' }, { ...AUDIT, time: null }, { ...AUDIT, time: 1773480413589 }, null, 'text']) {
      expect(() => parseAgilicusAudit(record)).toThrow(UnusableRecord);
      expect(() => parseAgilicusAuthAudit(record)).toThrow(UnusableRecord);
    }
  });

  it('reads every other field leniently: null, empty or of another type is absent', () => {
    const nulls: JsonObject = Object.fromEntries(Object.keys(AUDIT).map((key) => [key, key === 'time' ? AUDIT['time']! : null]));
    const odd: JsonObject = { ...AUDIT, user_id: 42, target_id: '', action: ['CREATE'], target_resource_type: false, api_name: { name: 'tokens' } };
    for (const record of [nulls, odd]) {
      const event = normalizeAgilicusAudit(parseAgilicusAudit(record), 's');
      expect(event).toMatchObject({ action: 'unknown', category: 'OTHER', actor: { sourceActorId: null, type: 'SYSTEM' }, target: null, failed: null });
      expect(event.raw).toBe(record);
    }
    expect(normalizeAgilicusAudit(parseAgilicusAudit(nulls), 's').request).toMatchObject({ clientIp: null, traceId: null, sessionId: null });
    expect(normalizeAgilicusAudit(parseAgilicusAudit(nulls), 's').details).toEqual({ kind: 'audit' });
  });

  it('gives the actor the organisation the record names', () => {
    expect(normalizeAgilicusAudit(parseAgilicusAudit(AUDIT), 's').actor.organizationId).toBe(AUDIT['org_id']);
    expect(normalizeAgilicusAudit(parseAgilicusAudit({ ...AUDIT, org_id: null }), 's').actor.organizationId).toBeNull();
  });

  it('serves a page that holds one record without time, counting the record it left out', async () => {
    const { time: _time, ...timeless } = AUDIT;
    const page = await normalizePage('s', [AUDIT, timeless], parseAgilicusAudit, normalizeAgilicusAudit, { logger: silentLogger });
    expect(page.events).toHaveLength(1);
    expect(page.unusable).toBe(1);
  });
});

describe('agilicusAuditCategory', () => {
  it.each([
    ['user', 'users', 'ADMIN'],
    ['role', 'permissions', 'ACCESS'],
    ['token', 'tokens', 'AUTHENTICATION'],
    ['application', 'applications', 'CONFIGURATION'],
    ['agent_connector', 'connectors', 'CONFIGURATION'],
    [undefined, 'connectors', 'CONFIGURATION'],
    ['file', 'files', 'DATA'],
    [undefined, 'something-new', 'OTHER'],
  ] as const)('files resource %s of API %s under %s', (type, api, category) => {
    expect(agilicusAuditCategory(type, api)).toBe(category);
  });
});

describe('normalizeAgilicusAuthAudit', () => {
  it('makes an auth record an AUTHENTICATION event named <event_name>:<result>', () => {
    const event = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(structuredClone(AUTH)), 's');
    expect(event).toMatchObject({
      action: 'Authentication Request:Success',
      category: 'AUTHENTICATION',
      actor: { sourceActorId: AUTH['user_id'], type: 'USER', organizationId: AUTH['org_id'], application: 'Wiki' },
      target: { sourceTargetId: 'wiki-client', type: 'issuer_client', name: 'Wiki' },
      request: {
        clientIp: '198.51.100.7',
        userAgent: 'curl/8.7.1',
        requestId: AUTH['request_id'],
        sessionId: AUTH['session'],
        traceId: AUTH['trace_id'],
      },
      failed: false,
    });
    expect(event.sourceEventId).toMatch(/^auth:1773480414001:[0-9a-f]{32}$/);
    expect(event.raw).toEqual(AUTH);
  });

  it.each(['Failure', 'Denied', 'Timeout'])('marks result %s as failed', (result) => {
    expect(normalizeAgilicusAuthAudit(parseAgilicusAuthAudit({ ...AUTH, result }), 's').failed).toBe(true);
  });

  it('falls back to the deprecated stage and event, and says nothing about failure without a result', () => {
    const { event_name: _name, result: _result, user_id: _user, ...old } = AUTH;
    const legacy = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit({ ...old, stage: 'Login', event: 'Failure' }), 's');
    expect(legacy.action).toBe('Login:Failure');
    expect(legacy.failed).toBe(true);
    expect(legacy.actor.type).toBe('ANONYMOUS');
    const bare = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(old), 's');
    expect(bare.action).toBe('Authentication:Unknown');
    expect(bare.failed).toBeNull();
    const nulled = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit({ ...AUTH, event_name: null, result: null, stage: 'Login', event: 'Success' }), 's');
    expect(nulled.action).toBe('Login:Success');
  });

  it('names the application the user signed in through by its client when it has no name', () => {
    const { application_name: _name, ...unnamed } = AUTH;
    const event = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(unnamed), 's');
    expect(event.actor.application).toBe('wiki-client');
    expect(event.target).toEqual({ sourceId: 's', sourceTargetId: 'wiki-client', type: 'issuer_client', name: null });
  });
});

describe('derived ids', () => {
  it('are the same for the same record whatever its key order, and differ for any changed field', () => {
    const reordered = Object.fromEntries(Object.entries(AUDIT).reverse());
    const a = normalizeAgilicusAudit(parseAgilicusAudit(AUDIT), 's').sourceEventId;
    expect(normalizeAgilicusAudit(parseAgilicusAudit(reordered), 'other-source').sourceEventId).toBe(a);
    expect(normalizeAgilicusAudit(parseAgilicusAudit({ ...AUDIT, source_ip: '192.0.2.4' }), 's').sourceEventId).not.toBe(a);
  });

  it('are pinned, so they survive releases', () => {
    expect(normalizeAgilicusAudit(parseAgilicusAudit(AUDIT), 's').sourceEventId).toBe('audit:1773480413589:033c04a8b7fe61193cd786aa538ec4e7');
  });

  it('carry the record time as it was read, whatever zone or precision the record was written in', () => {
    const ms = Date.UTC(2026, 2, 14, 9, 26, 53, 589);
    for (const time of ['2026-03-14T09:26:53.589Z', '2026-03-14T10:26:53.589912+01:00', '2026-03-14 09:26:53.589']) {
      const event = normalizeAgilicusAudit(parseAgilicusAudit({ ...AUDIT, time }), 's');
      expect(parseAgilicusId(event.sourceEventId)).toEqual({ kind: 'audit', occurredAtMs: ms, copy: 0 });
    }
    const early = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit({ time: '1969-12-31T23:59:59.999Z' }), 's');
    expect(early.sourceEventId).toMatch(/^auth:-1:[0-9a-f]{32}$/);
    expect(parseAgilicusId(early.sourceEventId)).toEqual({ kind: 'auth', occurredAtMs: -1, copy: 0 });
  });

  it('differ between an audit and an auth record with the same JSON', () => {
    const record = { time: AUDIT['time']! };
    expect(normalizeAgilicusAudit(parseAgilicusAudit(record), 's').sourceEventId.replace('audit:', '')).toBe(
      normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(record), 's').sourceEventId.replace('auth:', ''),
    );
    expect(normalizeAgilicusAudit(parseAgilicusAudit(record), 's').sourceEventId).not.toBe(
      normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(record), 's').sourceEventId,
    );
  });

  it('number identical records so that each copy is its own event', () => {
    const one = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit(AUTH), 's');
    const other = normalizeAgilicusAuthAudit(parseAgilicusAuthAudit({ ...AUTH, result: 'Failure' }), 's');
    const ids = withOccurrenceIds([one, other, one, one]).map((event) => event.sourceEventId);
    expect(ids).toEqual([one.sourceEventId, other.sourceEventId, `${one.sourceEventId}:1`, `${one.sourceEventId}:2`]);
  });
});

describe('parseAgilicusId', () => {
  const HASH = '033c04a8b7fe61193cd786aa538ec4e7';

  it('reads kind, time and copy number', () => {
    expect(parseAgilicusId(`audit:1773480413589:${HASH}`)).toEqual({ kind: 'audit', occurredAtMs: 1773480413589, copy: 0 });
    expect(parseAgilicusId(`auth:0:${HASH}:2`)).toEqual({ kind: 'auth', occurredAtMs: 0, copy: 2 });
  });

  it.each([
    ['the id format before times', `audit:${HASH}`],
    ['an unknown kind', `login:1773480413589:${HASH}`],
    ['a short hash', `audit:1773480413589:${HASH.slice(1)}`],
    ['upper-case hex', `audit:1773480413589:${HASH.toUpperCase()}`],
    ['a time with leading zeros', `audit:01773480413589:${HASH}`],
    ['minus zero', `audit:-0:${HASH}`],
    ['a time beyond safe integers', `audit:9999999999999999:${HASH}`],
    ['copy number 0', `audit:1773480413589:${HASH}:0`],
    ['trailing text', `audit:1773480413589:${HASH}x`],
    ['an empty string', ''],
  ])('refuses %s', (_what, id) => {
    expect(parseAgilicusId(id)).toBeNull();
  });
});

describe('parseAgilicusTime', () => {
  it('reads UTC, offsets, microseconds (truncated) and zone-less values as UTC', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    expect(parseAgilicusTime('2026-01-02T03:04:05.678Z')).toBe(ms);
    expect(parseAgilicusTime('2026-01-02T03:04:05.678901+00:00')).toBe(ms);
    expect(parseAgilicusTime('2026-01-02T04:04:05.678+01:00')).toBe(ms);
    expect(parseAgilicusTime('2026-01-02T03:04:05.678')).toBe(ms);
    expect(parseAgilicusTime('2026-01-02 03:04:05.678')).toBe(ms);
    expect(parseAgilicusTime('now')).toBeNaN();
  });
});
