import { ErrorCode, UpstreamError } from '../../../src/errors';
import { normalizePage } from '../../../src/sources/normalize-page';
import { createLogger } from '../../../src/logger';
import { MalformedPortRecord, normalizePortAuditLog, parsePortAuditLog, portActionName } from '../../../src/vendors/port/normalize';

const silentLogger = createLogger({ level: 'silent' });

/** A record shaped like Port's (port-experimental exporter fixtures, Port change-event examples). */
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

describe('normalizePortAuditLog', () => {
  it('maps a user entity update to entity.updated in DATA, with target, origin and details', () => {
    const raw = record();
    const event = normalize(raw);
    expect(event).toEqual({
      sourceId: 'port-eu',
      vendor: 'port',
      sourceEventId: 'b1e9c7a2-3f0d-4c55-a7f1-000000000042',
      action: 'entity.updated',
      category: 'DATA',
      occurredAtMs: Date.UTC(2026, 9, 31, 12, 34, 56, 789),
      actor: { sourceId: 'port-eu', sourceActorId: 'auth0|65f1c0de2a9b4c0012ab34cd', type: 'USER', name: null, email: null },
      target: { sourceId: 'port-eu', sourceTargetId: 'payment-api', type: 'entity', name: 'Payment API' },
      request: expect.objectContaining({ origin: 'UI', clientIp: null, userAgent: null }),
      repository: null,
      details: { diff: raw['diff'], context: raw['context'], additionalData: {} },
      integrity: null,
      failed: false,
      raw,
    });
    expect(event.raw).toBe(raw);
  });

  it('names actions <resourceType>.<created|updated|deleted> and keeps other operations readable', () => {
    expect(portActionName('blueprint', 'CREATE')).toBe('blueprint.created');
    expect(portActionName('run', 'UPDATE')).toBe('run.updated');
    expect(portActionName('webhook', 'DELETE')).toBe('webhook.deleted');
    expect(portActionName('entity', 'Timer Expired')).toBe('entity.timer_expired');
    expect(portActionName(undefined, undefined)).toBe('unknown.unknown');
  });

  it('categorises set-up resources as CONFIGURATION, entities and runs as DATA, anything else as OTHER', () => {
    for (const type of ['blueprint', 'integration', 'webhook', 'scorecard', 'action']) expect(normalize(record({ resourceType: type })).category).toBe('CONFIGURATION');
    expect(normalize(record({ resourceType: 'run' })).category).toBe('DATA');
    expect(normalize(record({ resourceType: 'page' })).category).toBe('OTHER');
  });

  it('tells people, machine clients and Port itself apart', () => {
    const by = (userId?: string) => normalize(record({ trigger: { by: userId ? { orgId: 'org_1', userId } : { orgId: 'org_1' }, origin: 'API', at: '2026-10-31T00:00:00.000Z' } })).actor;
    expect(by('google-oauth2|104857600000000000000').type).toBe('USER');
    expect(by('Kq3x9ZyWbV2mN8pL4tR7sD1fG6hJ0aC5@clients')).toEqual({ sourceId: 'port-eu', sourceActorId: 'Kq3x9ZyWbV2mN8pL4tR7sD1fG6hJ0aC5@clients', type: 'SERVICE_ACCOUNT', name: null, email: null });
    expect(by()).toEqual({ sourceId: 'port-eu', sourceActorId: null, type: 'SYSTEM', name: null, email: null });
  });

  it('marks FAILURE as failed and keeps the message in details', () => {
    const event = normalize(record({ status: 'FAILURE', message: "Entity property 'tier' does not match the blueprint schema" }));
    expect(event.failed).toBe(true);
    expect(event.details).toMatchObject({ message: "Entity property 'tier' does not match the blueprint schema" });
    expect(normalize(record({ status: undefined })).failed).toBeNull();
  });

  it('takes the target from the context key of the resource type, or none', () => {
    expect(normalize(record({ resourceType: 'run', context: { runId: 'r_1a2b3c', entity: 'payment-api' }, diff: {} })).target).toEqual({ sourceId: 'port-eu', sourceTargetId: 'r_1a2b3c', type: 'run', name: null });
    expect(normalize(record({ resourceType: 'blueprint', context: { blueprint: 'service' }, diff: { before: { title: 'Service' }, after: null } })).target?.name).toBe('Service');
    expect(normalize(record({ context: {} })).target).toBeNull();
  });

  it('throws on a record without identifier or trigger.at, naming the field', () => {
    expect(() => parsePortAuditLog(record({ identifier: undefined }))).toThrow(new MalformedPortRecord('identifier'));
    expect(() => parsePortAuditLog(record({ trigger: { origin: 'UI' } }))).toThrow(new MalformedPortRecord('trigger.at'));
    expect(() => parsePortAuditLog(record({ trigger: { at: 'yesterday' } }))).toThrow(new MalformedPortRecord('trigger.at'));
    expect(() => parsePortAuditLog(record({ context: 'payment-api' }))).toThrow(new MalformedPortRecord('context'));
    expect(() => parsePortAuditLog(['not', 'a', 'record'])).toThrow(MalformedPortRecord);
    // The seed's PyPort shape is not Port's.
    expect(() => parsePortAuditLog({ id: 'log_123456', timestamp: '2024-01-15T10:30:00Z', action: 'entity.created' })).toThrow(new MalformedPortRecord('identifier'));
  });

  it('serves a page with one record that cannot be placed, counting it', () => {
    const page = normalizePage('port-eu', [record(), record({ trigger: {} })], parsePortAuditLog, normalizePortAuditLog, { logger: silentLogger });
    expect(page.events).toHaveLength(1);
    expect(page.unusable).toBe(1);
  });
});
