import { createLogger } from '../../../src/logger';
import { normalizePage, UnusableRecord } from '../../../src/sources/normalize-page';
import { instantOf, normalizePortAuditLog, parsePortAuditLog, portActionName } from '../../../src/vendors/port/normalize';

const silentLogger = createLogger({ level: 'silent' });

/** A record shaped like Port's (its change-event examples and the exporter's record format). */
function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    identifier: 'b1e9c7a2-3f0d-4c55-a7f1-000000000042',
    action: 'UPDATE',
    resourceType: 'entity',
    status: 'SUCCESS',
    trigger: { by: { orgId: 'org_9Jv0Wq2bZ6xT1mNa', userId: 'auth0|65f1c0de2a9b4c0012ab34cd' }, origin: 'UI', at: '2026-10-31T12:34:56.789Z' },
    context: { blueprint: 'service', entity: 'payment-api' },
    diff: { before: { identifier: 'payment-api', title: 'Payment Api', properties: { tier: 'Internal' } }, after: { identifier: 'payment-api', title: 'Payment API', properties: { tier: 'Mission Critical' } } },
    additionalData: {},
    ...overrides,
  };
}

const normalize = (value: Record<string, unknown>) => normalizePortAuditLog(parsePortAuditLog(value), 'port-eu');
const trigger = (overrides: Record<string, unknown>) => ({ trigger: { by: { orgId: 'org_1', userId: 'auth0|1' }, origin: 'UI', at: '2026-10-31T00:00:00.000Z', ...overrides } });

describe('normalizePortAuditLog', () => {
  it('maps a user entity update to entity.updated in DATA, with actor organisation, target, origin and details', () => {
    const raw = record();
    const event = normalize(raw);
    expect(event).toEqual({
      sourceId: 'port-eu',
      vendor: 'port',
      sourceEventId: 'b1e9c7a2-3f0d-4c55-a7f1-000000000042',
      action: 'entity.updated',
      category: 'DATA',
      occurredAtMs: Date.UTC(2026, 9, 31, 12, 34, 56, 789),
      actor: { sourceId: 'port-eu', sourceActorId: 'auth0|65f1c0de2a9b4c0012ab34cd', type: 'USER', name: null, email: null, organizationId: 'org_9Jv0Wq2bZ6xT1mNa', application: null },
      target: { sourceId: 'port-eu', sourceTargetId: 'payment-api', type: 'entity', name: 'Payment API', subtype: 'service', email: null },
      request: expect.objectContaining({ origin: 'UI', clientIp: null, userAgent: null }),
      repository: null,
      details: { diff: raw['diff'], context: raw['context'], additionalData: {} },
      integrity: null,
      failed: false,
      raw,
    });
    expect(event.raw).toBe(raw);
  });

  it('names actions <resourceType>.<created|updated|deleted>, keeps other operations readable and says `unknown` for a missing part', () => {
    expect(portActionName('blueprint', 'CREATE')).toBe('blueprint.created');
    expect(portActionName('run', 'UPDATE')).toBe('run.updated');
    expect(portActionName('webhook', 'DELETE')).toBe('webhook.deleted');
    expect(portActionName('entity', 'Timer Expired')).toBe('entity.timer_expired');
    expect(portActionName('entity', 'TIMER_EXPIRED')).toBe('entity.timer_expired');
    expect(portActionName('entity', null)).toBe('entity.unknown');
    expect(portActionName(null, 'UPDATE')).toBe('unknown.updated');
    expect(portActionName(null, null)).toBe('unknown.unknown');
    expect(portActionName('entity', '!!!')).toBe('entity.unknown');
  });

  it('categorises set-up resources as CONFIGURATION, entities and runs as DATA, anything else as OTHER', () => {
    for (const type of ['blueprint', 'integration', 'webhook', 'scorecard', 'action']) expect(normalize(record({ resourceType: type })).category).toBe('CONFIGURATION');
    expect(normalize(record({ resourceType: 'run' })).category).toBe('DATA');
    expect(normalize(record({ resourceType: 'page' })).category).toBe('OTHER');
    expect(normalize(record({ resourceType: 'constructor' })).category).toBe('OTHER');
    expect(normalize(record({ resourceType: null })).category).toBe('OTHER');
  });

  it('tells people, machine clients, Port itself and an unstated actor apart, with the organisation', () => {
    const actorOf = (by: unknown) => normalize(record(trigger({ by, origin: 'API' }))).actor;
    expect(actorOf({ orgId: 'org_1', userId: 'google-oauth2|104857600000000000000' })).toMatchObject({ type: 'USER', organizationId: 'org_1' });
    expect(actorOf({ orgId: 'org_1', userId: 'Kq3x9ZyWbV2mN8pL4tR7sD1fG6hJ0aC5@clients' })).toEqual({
      sourceId: 'port-eu', sourceActorId: 'Kq3x9ZyWbV2mN8pL4tR7sD1fG6hJ0aC5@clients', type: 'SERVICE_ACCOUNT', name: null, email: null, organizationId: 'org_1', application: null,
    });
    expect(actorOf({ orgId: 'org_1' })).toEqual({ sourceId: 'port-eu', sourceActorId: null, type: 'SYSTEM', name: null, email: null, organizationId: 'org_1', application: null });
    expect(actorOf({ byPort: true, orgId: 'org_example' })).toMatchObject({ sourceActorId: null, type: 'SYSTEM', organizationId: 'org_example' });
    // No `trigger.by` says nothing about who acted.
    for (const by of [null, undefined, 'auth0|1']) expect(actorOf(by)).toMatchObject({ sourceActorId: null, type: 'UNKNOWN', organizationId: null });
    expect(actorOf({ orgId: null, userId: null })).toMatchObject({ type: 'SYSTEM', organizationId: null });
  });

  it('takes an integration origin as the application the actor acted through, and keeps every origin in the request', () => {
    const event = (origin: unknown) => normalize(record(trigger({ by: { orgId: 'org_1', userId: 'x@clients' }, origin })));
    expect(event('github-ocean').actor.application).toBe('github-ocean');
    expect(event('github-ocean').request?.origin).toBe('github-ocean');
    for (const channel of ['UI', 'API', 'AUTOMATION']) {
      expect(event(channel).actor.application).toBeNull();
      expect(event(channel).request?.origin).toBe(channel);
    }
    expect(event(null).request?.origin).toBeNull();
  });

  it('marks FAILURE as failed, SUCCESS as not, and says nothing for any other status', () => {
    const event = normalize(record({ status: 'FAILURE', message: "Entity property 'tier' does not match the blueprint schema" }));
    expect(event.failed).toBe(true);
    expect(event.details).toMatchObject({ message: "Entity property 'tier' does not match the blueprint schema" });
    for (const status of [undefined, null, 'PENDING', 'failure', 7]) expect(normalize(record({ status })).failed).toBeNull();
  });

  it('takes the target from the context key of the resource type', () => {
    expect(normalize(record({ resourceType: 'run', context: { runId: 'r_1a2b3c', entity: 'payment-api', action: 'deploy' }, diff: {} })).target).toEqual({
      sourceId: 'port-eu', sourceTargetId: 'r_1a2b3c', type: 'run', name: null, subtype: 'deploy', email: null,
    });
    expect(normalize(record({ resourceType: 'blueprint', context: { blueprint: 'service' }, diff: { before: { title: 'Service' }, after: null } })).target).toEqual({
      sourceId: 'port-eu', sourceTargetId: 'service', type: 'blueprint', name: 'Service', subtype: null, email: null,
    });
    expect(normalize(record({ resourceType: 'webhook', context: { webhookId: 'wh_1' }, diff: null })).target?.sourceTargetId).toBe('wh_1');
    expect(normalize(record({ resourceType: 'integration', context: { installationId: 'k8s-exporter' }, diff: null })).target?.sourceTargetId).toBe('k8s-exporter');
  });

  it('reads entityIdentifier / blueprintIdentifier as automation payloads write them, the entity before its blueprint', () => {
    const context = { blueprintIdentifier: 'service', entityIdentifier: 'example-service-identifier', propertyIdentifier: null };
    expect(normalize(record({ context, diff: null })).target).toEqual({
      sourceId: 'port-eu', sourceTargetId: 'example-service-identifier', type: 'entity', name: null, subtype: 'service', email: null,
    });
    expect(normalize(record({ resourceType: 'blueprint', context, diff: null })).target?.sourceTargetId).toBe('service');
    // The older keys still win over the new ones, as before.
    expect(normalize(record({ context: { entity: 'a', entityIdentifier: 'b', entityId: 'c' } })).target?.sourceTargetId).toBe('a');
    expect(normalize(record({ context: { entityId: 'c', blueprintId: 'bp' }, diff: null })).target).toMatchObject({ sourceTargetId: 'c', subtype: 'bp' });
    expect(normalize(record({ resourceType: 'blueprint', context: { blueprintId: 'bp' } })).target?.sourceTargetId).toBe('bp');
  });

  it('falls back to the resource’s own snapshot when the context does not name it (a run update)', () => {
    const run = { id: 'r_Q0YotCZMKxDLdlaU', status: 'IN_PROGRESS', action: { identifier: 'myActionId', title: null }, entity: { identifier: 'entityIdentifier' } };
    const event = normalize(record({ resourceType: 'run', context: { action: { identifier: 'myActionId', title: 'Some action title' } }, diff: { before: run, after: run } }));
    expect(event.target).toEqual({ sourceId: 'port-eu', sourceTargetId: 'r_Q0YotCZMKxDLdlaU', type: 'run', name: null, subtype: 'myActionId', email: null });
    expect(normalize(record({ context: null, diff: { before: { identifier: 'old-service', blueprint: 'service', title: 'Old' }, after: null } })).target).toEqual({
      sourceId: 'port-eu', sourceTargetId: 'old-service', type: 'entity', name: 'Old', subtype: 'service', email: null,
    });
  });

  it('gives a user entity (blueprint _user) its email', () => {
    const target = normalize(record({ action: 'CREATE', context: { blueprint: '_user', entity: 'jane@example.com' }, diff: { before: null, after: { identifier: 'jane@example.com', title: 'Jane Doe' } } })).target;
    expect(target).toEqual({ sourceId: 'port-eu', sourceTargetId: 'jane@example.com', type: 'entity', name: 'Jane Doe', subtype: '_user', email: 'jane@example.com' });
    expect(normalize(record({ context: { blueprint: 'service', entity: 'a@b' } })).target?.email).toBeNull();
  });

  it('gives no target without a resource type or an id, and none from a context the resource type does not name', () => {
    expect(normalize(record({ resourceType: null })).target).toBeNull();
    expect(normalize(record({ resourceType: undefined })).target).toBeNull();
    expect(normalize(record({ context: {}, diff: {} })).target).toBeNull();
    expect(normalize(record({ resourceType: 'page', context: { entity: 'x' } })).target).toBeNull();
    expect(normalize(record({ context: { entity: '', entityIdentifier: null, entityId: 42 }, diff: null })).target).toBeNull();
  });

  it('reads a record with every optional field null, absent or of another type, without throwing', () => {
    const minimal = { identifier: 'log-1', trigger: { at: '2026-10-31T00:00:00.000Z' } };
    const nulls = { identifier: 'log-2', action: null, resourceType: null, status: null, message: null, trigger: { by: null, origin: null, at: '2026-10-31T00:00:00.000Z' }, context: null, diff: null, additionalData: null };
    const odd = { identifier: 'log-3', action: 5, resourceType: ['entity'], status: {}, message: 12, trigger: { by: 'auth0|1', origin: true, at: '2026-10-31T00:00:00.000Z' }, context: 'payment-api', diff: [], additionalData: 'x' };
    for (const raw of [minimal, nulls, odd]) {
      const event = normalize(raw);
      expect(event).toMatchObject({ action: 'unknown.unknown', category: 'OTHER', target: null, failed: null, occurredAtMs: Date.UTC(2026, 9, 31) });
      expect(event.actor).toMatchObject({ type: 'UNKNOWN', sourceActorId: null, organizationId: null, application: null });
      expect(event.request?.origin).toBeNull();
      expect(event.raw).toBe(raw);
    }
    expect(normalize(minimal).details).toBeNull();
    expect(normalize(nulls).details).toBeNull();
    // Values of an unexpected type are still what Port said: shown as they are, never interpreted.
    expect(normalize(odd).details).toEqual({ diff: [], context: 'payment-api', message: 12, additionalData: 'x' });
    const halfDiff = normalize(record({ action: 'DELETE', diff: { before: { title: 'Gone' } } }));
    expect(halfDiff.target?.name).toBe('Gone');
    expect(normalize(record({ diff: { before: null, after: null } })).target?.name).toBeNull();
  });

  it('refuses, as unusable, only a record without an identifier or a usable trigger.at', () => {
    const unusable = (value: unknown, reason: string) => expect(() => parsePortAuditLog(value)).toThrow(new UnusableRecord(reason));
    unusable(record({ identifier: undefined }), 'no identifier');
    unusable(record({ identifier: null }), 'no identifier');
    unusable(record({ identifier: '  ' }), 'no identifier');
    unusable(record({ trigger: null }), 'no usable trigger.at');
    unusable(record({ trigger: { origin: 'UI' } }), 'no usable trigger.at');
    unusable(record({ trigger: { at: null } }), 'no usable trigger.at');
    unusable(record({ trigger: { at: 'yesterday' } }), 'no usable trigger.at');
    unusable(record({ trigger: { at: '2026-10-31' } }), 'no usable trigger.at');
    unusable(record({ trigger: { at: 1_700_000_000_000 } }), 'no usable trigger.at');
    unusable(['not', 'a', 'record'], 'record is not an object');
    // The PyPort SDK's shape is not Port's.
    unusable({ id: 'log_123456', timestamp: '2024-01-15T10:30:00Z', action: 'entity.created' }, 'no identifier');
    expect(parsePortAuditLog(record({ identifier: 42 })).identifier).toBe('42');
  });

  it('reads trigger.at in UTC, with an offset, or without a zone as UTC', () => {
    expect(instantOf('2024-06-09T12:28:18.477Z')).toBe(Date.UTC(2024, 5, 9, 12, 28, 18, 477));
    expect(instantOf('2022-12-01T16:50:00+02:00')).toBe(Date.UTC(2022, 11, 1, 14, 50));
    expect(instantOf('2024-06-09T12:28:18.477')).toBe(Date.UTC(2024, 5, 9, 12, 28, 18, 477));
    expect(instantOf('2024-06-09T12:28:18.477123Z')).toBe(Date.UTC(2024, 5, 9, 12, 28, 18, 477));
    expect(instantOf('2024-06-09t12:28:18.477z')).toBe(Date.UTC(2024, 5, 9, 12, 28, 18, 477));
    expect(instantOf('2022-12-01T16:50:00+0200')).toBe(Date.UTC(2022, 11, 1, 14, 50));
    expect(instantOf('2024-13-09T12:28:18Z')).toBeNull();
    expect(instantOf('Z')).toBeNull();
  });

  it('serves a page with records that cannot be placed, counting exactly those', async () => {
    const page = await normalizePage(
      'port-eu',
      [record(), record({ trigger: {} }), { trigger: { at: '2024-04-23T12:00:00.000Z' }, data: 'test log data' }, record({ identifier: 'lenient', action: null, resourceType: null, status: null, context: null, diff: null })],
      parsePortAuditLog,
      normalizePortAuditLog,
      { logger: silentLogger },
    );
    expect(page.events.map((event) => event.sourceEventId)).toEqual(['b1e9c7a2-3f0d-4c55-a7f1-000000000042', 'lenient']);
    expect(page.unusable).toBe(2);
  });
});
