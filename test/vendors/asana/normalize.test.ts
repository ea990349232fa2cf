import type { JsonObject, JsonValue } from '../../../src/models/json';
import { UnusableRecord } from '../../../src/sources/normalize-page';
import {
  UNKNOWN_EVENT_TYPE,
  UNKNOWN_RESOURCE_TYPE,
  asanaActorType,
  asanaCategory,
  asanaTimeOf,
  normalizeAsanaAuditLogEvent,
  parseAsanaAuditLogEvent,
} from '../../../src/vendors/asana/normalize';
import { ASANA_ACTOR_TYPES } from '../../../src/vendors/asana/wire-types';

/** A realistic record as Asana sends it; `overrides` replace top-level fields. */
function record(overrides: JsonObject = {}): JsonObject {
  return {
    gid: '1208000000012345',
    created_at: '2026-10-31T12:00:00.123Z',
    event_type: 'task_deleted',
    event_category: 'deletion',
    actor: { actor_type: 'user', gid: '1204000000000007', name: 'Hana Smith', email: 'hana.smith@example.com' },
    resource: { resource_type: 'task', resource_subtype: 'milestone', gid: '1205000000000042', name: 'Review vendor contract' },
    context: { context_type: 'web', client_ip_address: '192.0.2.10', user_agent: 'Mozilla/5.0' },
    details: { old_value: null, new_value: null },
    ...overrides,
  };
}

const normalize = (value: JsonObject) => normalizeAsanaAuditLogEvent(parseAsanaAuditLogEvent(value), 'asana-main');

/** `record()` with top-level fields removed (`undefined`) or replaced. */
function without(overrides: Record<string, JsonValue | undefined>): JsonObject {
  const value = record();
  for (const [key, replacement] of Object.entries(overrides)) {
    if (replacement === undefined) delete value[key];
    else value[key] = replacement;
  }
  return value;
}

describe('parseAsanaAuditLogEvent (record policy: only identity and time are required)', () => {
  it.each([
    ['no gid', { gid: undefined }],
    ['no gid', { gid: '' }],
    ['no gid', { gid: null }],
    ['no gid', { gid: 1.5 }],
    ['no usable created_at', { created_at: undefined }],
    ['no usable created_at', { created_at: null }],
    ['no usable created_at', { created_at: 'yesterday' }],
    ['no usable created_at', { created_at: 1_700_000_000_000 }],
    // Without a zone the instant would depend on the host's time zone.
    ['no usable created_at', { created_at: '2026-10-31T12:00:00.123' }],
  ] as const)('finds a record with %s unusable (%j)', (reason, overrides) => {
    expect(() => parseAsanaAuditLogEvent(without(overrides))).toThrow(new UnusableRecord(reason));
  });

  it('finds something that is not an object unusable', () => {
    expect(() => parseAsanaAuditLogEvent(['gid'])).toThrow(UnusableRecord);
  });

  it('reads created_at in any zone and truncates finer fractions to the millisecond', () => {
    expect(asanaTimeOf('2026-10-31T13:00:00.123+01:00')).toBe(Date.UTC(2026, 9, 31, 12, 0, 0, 123));
    expect(asanaTimeOf('2026-10-31t12:00:00.123999z')).toBe(Date.UTC(2026, 9, 31, 12, 0, 0, 123));
    expect(asanaTimeOf('2026-10-31T12:00:00Z')).toBe(Date.UTC(2026, 9, 31, 12));
  });

  it('takes an integer gid as its text', () => {
    expect(normalize(record({ gid: 1208000000012345 })).sourceEventId).toBe('1208000000012345');
  });
});

describe('normalizeAsanaAuditLogEvent, leniently (the spec marks no field required)', () => {
  it('maps an event with nothing but gid and created_at', () => {
    const event = normalize({ gid: '1', created_at: '2026-10-31T12:00:00.123Z' });
    expect(event).toEqual({
      sourceId: 'asana-main',
      vendor: 'asana',
      sourceEventId: '1',
      action: UNKNOWN_EVENT_TYPE,
      category: 'OTHER',
      occurredAtMs: Date.UTC(2026, 9, 31, 12, 0, 0, 123),
      actor: { sourceId: 'asana-main', sourceActorId: null, type: 'UNKNOWN', name: null, email: null },
      target: null,
      request: null,
      details: null,
      repository: null,
      integrity: null,
      failed: null,
      raw: { gid: '1', created_at: '2026-10-31T12:00:00.123Z' },
    });
  });

  it.each([
    ['absent', undefined],
    ['null', null],
    ['not an object', 'user'],
  ] as const)('gives an event whose actor is %s an UNKNOWN actor without id', (_case, actor) => {
    expect(normalize(without({ actor })).actor).toEqual({ sourceId: 'asana-main', sourceActorId: null, type: 'UNKNOWN', name: null, email: null });
  });

  it('reads null actor fields as absent, keeping what the actor does record', () => {
    const actor = { actor_type: null, gid: '1204000000000007', name: null, email: null };
    expect(normalize(record({ actor })).actor).toEqual({ sourceId: 'asana-main', sourceActorId: '1204000000000007', type: 'UNKNOWN', name: null, email: null });
    expect(normalize(record({ actor: { actor_type: 'user', gid: null, name: 'Hana Smith' } })).actor).toEqual({ sourceId: 'asana-main', sourceActorId: null, type: 'USER', name: 'Hana Smith', email: null });
  });

  it('has no target for a resource without a gid, and an unknown type for one without resource_type', () => {
    expect(normalize(record({ resource: null })).target).toBeNull();
    expect(normalize(record({ resource: { resource_type: 'task', name: 'x' } })).target).toBeNull();
    expect(normalize(record({ resource: { gid: '1205000000000042', resource_type: null, name: null } })).target).toEqual({ sourceId: 'asana-main', sourceTargetId: '1205000000000042', type: UNKNOWN_RESOURCE_TYPE, name: null });
  });

  it('has no request for an event without context, and null parts for a context with nulls', () => {
    expect(normalize(record({ context: null })).request).toBeNull();
    expect(normalize(record({ context: 'web' })).request).toBeNull();
    const request = normalize(record({ context: { context_type: null, client_ip_address: null, user_agent: 'Mozilla/5.0', oauth_app_name: null, rule_name: null, on_behalf_of_user_id: null } })).request;
    expect(request).toMatchObject({ clientIp: null, userAgent: 'Mozilla/5.0', origin: null });
  });

  it('reads null event_type, event_category and details as absent', () => {
    const event = normalize(record({ event_type: null, event_category: null, details: null }));
    expect(event.action).toBe(UNKNOWN_EVENT_TYPE);
    expect(event.category).toBe('OTHER');
    expect(event.details).toBeNull();
    expect(normalize(record({ event_category: null })).category).toBe('DATA');
  });
});

describe('asanaActorType', () => {
  it('maps every documented actor_type', () => {
    const mapped = Object.fromEntries(ASANA_ACTOR_TYPES.map((type) => [type, asanaActorType(type, undefined)]));
    expect(mapped).toEqual({
      user: 'USER',
      asana: 'SYSTEM',
      asana_support: 'VENDOR_SUPPORT',
      anonymous: 'ANONYMOUS',
      external_administrator: 'USER',
    });
  });

  it('calls a user authenticated by a service account token a SERVICE_ACCOUNT', () => {
    expect(asanaActorType('user', 'service_account')).toBe('SERVICE_ACCOUNT');
    expect(asanaActorType('user', 'personal_access_token')).toBe('USER');
    expect(asanaActorType('user', 'oauth')).toBe('USER');
  });

  it('answers UNKNOWN for an actor type Asana may add later', () => {
    expect(asanaActorType('robot', undefined)).toBe('UNKNOWN');
  });
});

describe('asanaCategory', () => {
  it.each([
    ['logins', 'user_login_succeeded', 'AUTHENTICATION'],
    ['user_updates', 'user_invited', 'ADMIN'],
    ['deletion', 'task_deleted', 'DATA'],
    ['content_export', 'workspace_export_started', 'DATA'],
    ['permissions', 'project_privacy_settings_changed', 'ACCESS'],
    ['roles', 'team_member_role_changed', 'ACCESS'],
    ['admin_settings', 'workspace_session_duration_changed', 'CONFIGURATION'],
    ['apps', 'app_added_to_workspace', 'CONFIGURATION'],
  ] as const)('maps category %s (%s) to %s', (category, type, expected) => {
    expect(asanaCategory(category, type)).toBe(expected);
  });

  it('falls back on the event type when the category is absent or new', () => {
    expect(asanaCategory(undefined, 'user_login_failed')).toBe('AUTHENTICATION');
    expect(asanaCategory('brand_new', 'goal_deleted')).toBe('DATA');
    expect(asanaCategory(undefined, 'something_else')).toBe('OTHER');
  });
});

describe('normalizeAsanaAuditLogEvent', () => {
  it('normalises a whole record and keeps it untouched as raw', () => {
    const value = record();
    const copy = structuredClone(value);
    expect(normalize(value)).toEqual({
      sourceId: 'asana-main',
      vendor: 'asana',
      sourceEventId: '1208000000012345',
      action: 'task_deleted',
      category: 'DATA',
      occurredAtMs: Date.UTC(2026, 9, 31, 12, 0, 0, 123),
      actor: { sourceId: 'asana-main', sourceActorId: '1204000000000007', type: 'USER', name: 'Hana Smith', email: 'hana.smith@example.com' },
      target: { sourceId: 'asana-main', sourceTargetId: '1205000000000042', type: 'task', name: 'Review vendor contract', subtype: 'milestone' },
      repository: null,
      request: {
        clientIp: '192.0.2.10',
        userAgent: 'Mozilla/5.0',
        httpMethod: null,
        path: null,
        statusCode: null,
        sessionId: null,
        traceId: null,
        requestId: null,
        origin: 'web',
      },
      details: { old_value: null, new_value: null },
      integrity: null,
      failed: null,
      raw: copy,
    });
    expect(value).toEqual(copy);
  });

  it.each([
    ['asana', 'SYSTEM', 'asana'],
    ['asana_support', 'VENDOR_SUPPORT', 'asana_support'],
    ['anonymous', 'ANONYMOUS', 'web'],
  ] as const)('gives an id-less %s actor no id, type %s', (actorType, type, contextType) => {
    const event = normalize(record({ actor: { actor_type: actorType }, context: { context_type: contextType } }));
    expect(event.actor).toEqual({ sourceId: 'asana-main', sourceActorId: null, type, name: null, email: null });
    expect(event.request?.origin).toBe(contextType);
  });

  it('keeps an external administrator as a USER with its id, name and email', () => {
    const actor = { actor_type: 'external_administrator', gid: '1209000000000001', name: 'Ivan Okafor', email: 'ivan@partner.example' };
    expect(normalize(record({ actor })).actor).toEqual({ sourceId: 'asana-main', sourceActorId: '1209000000000001', type: 'USER', name: 'Ivan Okafor', email: 'ivan@partner.example' });
  });

  it('marks a service account call as SERVICE_ACCOUNT', () => {
    const event = normalize(record({ context: { context_type: 'api', api_authentication_method: 'service_account', client_ip_address: '198.51.100.4' } }));
    expect(event.actor.type).toBe('SERVICE_ACCOUNT');
    expect(event.request?.origin).toBe('api');
  });

  it('marks login outcomes as failed or not, and says nothing for other events', () => {
    expect(normalize(record({ event_type: 'user_login_failed', event_category: 'logins' })).failed).toBe(true);
    expect(normalize(record({ event_type: 'user_login_succeeded', event_category: 'logins' })).failed).toBe(false);
    expect(normalize(record()).failed).toBeNull();
  });

  it('maps the OAuth app, the automation rule and the user support acted for onto the actor', () => {
    const api = normalize(record({ context: { context_type: 'api', api_authentication_method: 'oauth', oauth_app_name: 'Zapier', client_ip_address: '192.0.2.10' } }));
    expect(api.actor).toEqual({ sourceId: 'asana-main', sourceActorId: '1204000000000007', type: 'USER', name: 'Hana Smith', email: 'hana.smith@example.com', application: 'Zapier' });
    const rule = normalize(record({ actor: { actor_type: 'asana' }, context: { context_type: 'asana', rule_name: 'When Task is added to this project' } }));
    expect(rule.actor).toEqual({ sourceId: 'asana-main', sourceActorId: null, type: 'SYSTEM', name: null, email: null, automation: 'When Task is added to this project' });
    const support = normalize(record({ actor: { actor_type: 'asana_support' }, context: { context_type: 'asana_support', on_behalf_of_user_id: 1204000000000031 } }));
    expect(support.actor).toEqual({
      sourceId: 'asana-main',
      sourceActorId: null,
      type: 'VENDOR_SUPPORT',
      name: null,
      email: null,
      onBehalfOf: { sourceId: 'asana-main', sourceActorId: '1204000000000031', type: 'USER', name: null, email: null },
    });
  });

  it('leaves an on_behalf_of_user_id that JSON cannot hold exactly in raw only', () => {
    // 2^53 + 1 is read as 2^53: naming that user would name the wrong one.
    const event = normalize(record({ context: { context_type: 'asana_support', on_behalf_of_user_id: 9007199254740993 } }));
    expect(event.actor.onBehalfOf).toBeUndefined();
  });

  it('maps the resource subtype and email onto the target', () => {
    const resource = { resource_type: 'user', gid: '1204000000000012', name: 'Ivan Okafor', email: 'ivan.okafor@example.com' };
    expect(normalize(record({ resource })).target).toEqual({ sourceId: 'asana-main', sourceTargetId: '1204000000000012', type: 'user', name: 'Ivan Okafor', email: 'ivan.okafor@example.com' });
    const milestone = normalize(record()).target;
    expect(milestone?.subtype).toBe('milestone');
    expect(milestone?.email).toBeUndefined();
  });

  it('passes details through as they are, nested objects included', () => {
    const details = { old_value: 'member', new_value: 'admin', group: { gid: '1207000000000001', name: 'Engineering', resource_type: 'team' } };
    expect(normalize(record({ details })).details).toEqual(details);
  });
});
