import type { JsonObject } from '../../../src/models/json';
import { ASANA_ACTOR_TYPES } from '../../../src/vendors/asana/wire-types';
import { MalformedAsanaRecord, asanaActorType, asanaCategory, normalizeAsanaAuditLogEvent, parseAsanaAuditLogEvent } from '../../../src/vendors/asana/normalize';

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

describe('parseAsanaAuditLogEvent', () => {
  it.each([
    ['gid', { gid: undefined }],
    ['gid', { gid: '' }],
    ['created_at', { created_at: undefined }],
    ['created_at', { created_at: 'yesterday' }],
    ['event_type', { event_type: 42 }],
    ['actor.actor_type', { actor: { gid: '1' } }],
    ['resource', { resource: { resource_type: 'task' } }],
    ['context', { context: 'web' }],
  ] as const)('refuses a record with a bad %s', (field, overrides) => {
    const value = record() as Record<string, unknown>;
    for (const [key, replacement] of Object.entries(overrides)) {
      if (replacement === undefined) delete value[key];
      else value[key] = replacement;
    }
    expect(() => parseAsanaAuditLogEvent(value)).toThrow(new MalformedAsanaRecord(field));
  });

  it('refuses something that is not an object', () => {
    expect(() => parseAsanaAuditLogEvent(['gid'])).toThrow(MalformedAsanaRecord);
  });

  it('accepts a record without resource, context or details', () => {
    const value = record();
    delete value['resource'];
    delete value['context'];
    delete value['details'];
    const event = normalize(value);
    expect(event.target).toBeNull();
    expect(event.details).toBeNull();
    expect(event.request?.origin).toBeNull();
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
      target: { sourceId: 'asana-main', sourceTargetId: '1205000000000042', type: 'task', name: 'Review vendor contract' },
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

  it('passes details through as they are, nested objects included', () => {
    const details = { old_value: 'member', new_value: 'admin', group: { gid: '1207000000000001', name: 'Engineering', resource_type: 'team' } };
    expect(normalize(record({ details })).details).toEqual(details);
  });
});
