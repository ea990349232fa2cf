import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { JsonObject } from '../../../src/models/json';
import { normalizeRecord, UnusableRecord } from '../../../src/sources/normalize-page';
import {
  complianceAgentCategory,
  flattenComplianceAgentEntry,
  normalizeComplianceAgentLog,
  parseComplianceAgentLog,
  unplaceableReason,
} from '../../../src/vendors/complianceagent/normalize';

/** The documented list-form example, with the chain fields a list answer may carry. */
const LIST_ENTRY: JsonObject = {
  id: 'log_abc123',
  event_type: 'issue.resolved',
  actor: { type: 'user', id: 'user_123', email: 'dev@acme.com' },
  resource: { type: 'issue', id: 'issue_456', name: 'Missing encryption for PII' },
  repository: { id: 'repo_789', name: 'acme/web-app' },
  details: { previous_status: 'open', new_status: 'fixed', fix_method: 'pull_request', pr_number: 456 },
  ip_address: '203.0.113.1',
  user_agent: 'Mozilla/5.0...',
  timestamp: '2024-01-15T10:30:00Z',
  hash: 'sha256:abc',
  previous_hash: 'sha256:xyz',
};

/** The documented single-entry form of the same entry. */
const SINGLE_ENTRY: JsonObject = {
  id: 'log_abc123',
  event_type: 'issue.resolved',
  actor: { type: 'user', id: 'user_123', email: 'dev@acme.com' },
  resource: { type: 'issue', id: 'issue_456', name: 'Missing encryption for PII' },
  repository: { id: 'repo_789', name: 'acme/web-app' },
  details: { previous_status: 'open', new_status: 'fixed', fix_method: 'pull_request', pr_number: 456 },
  metadata: { ip_address: '203.0.113.1', user_agent: 'Mozilla/5.0...' },
  timestamp: '2024-01-15T10:30:00Z',
  hash: 'sha256:abc',
  previous_hash: 'sha256:xyz',
};

describe('normalizeComplianceAgentLog', () => {
  it('maps the list form onto the vendor-neutral model', () => {
    const event = normalizeComplianceAgentLog(parseComplianceAgentLog(LIST_ENTRY), 'ca');
    expect(event).toEqual({
      sourceId: 'ca',
      vendor: 'complianceagent',
      sourceEventId: 'log_abc123',
      action: 'issue.resolved',
      category: 'COMPLIANCE',
      occurredAtMs: Date.UTC(2024, 0, 15, 10, 30),
      actor: { sourceId: 'ca', sourceActorId: 'user_123', type: 'USER', name: null, email: 'dev@acme.com' },
      target: { sourceId: 'ca', sourceTargetId: 'issue_456', type: 'issue', name: 'Missing encryption for PII' },
      request: expect.objectContaining({ clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0...', sessionId: null, requestId: null }),
      repository: { sourceRepositoryId: 'repo_789', name: 'acme/web-app' },
      details: { previous_status: 'open', new_status: 'fixed', fix_method: 'pull_request', pr_number: 456 },
      integrity: { hash: 'sha256:abc', previousHash: 'sha256:xyz' },
      failed: null,
      raw: LIST_ENTRY,
    });
  });

  it('gives the single-entry form the same model as the list form', () => {
    const fromSingle = normalizeComplianceAgentLog(parseComplianceAgentLog(SINGLE_ENTRY), 'ca');
    const fromList = normalizeComplianceAgentLog(parseComplianceAgentLog(LIST_ENTRY), 'ca');
    expect(fromSingle).toEqual(fromList);
  });

  it('lifts every metadata key, including session and request ids', () => {
    const flat = flattenComplianceAgentEntry({ ...SINGLE_ENTRY, metadata: { ip_address: '1', user_agent: 'ua', session_id: 's', request_id: 'r' } });
    expect(flat).not.toHaveProperty('metadata');
    expect(flat).toMatchObject({ ip_address: '1', user_agent: 'ua', session_id: 's', request_id: 'r' });
    const event = normalizeComplianceAgentLog(parseComplianceAgentLog(flat), 'ca');
    expect(event.request).toMatchObject({ sessionId: 's', requestId: 'r' });
  });

  it('maps system actors and categories of every event type', () => {
    const event = normalizeComplianceAgentLog(parseComplianceAgentLog({ ...LIST_ENTRY, actor: { type: 'system', id: 'system_scanner', email: null, name: 'Scanner' } }), 'ca');
    expect(event.actor).toEqual({ sourceId: 'ca', sourceActorId: 'system_scanner', type: 'SYSTEM', name: 'Scanner', email: null });
    const categories = ['scan.started', 'scan.completed', 'issue.created', 'issue.updated', 'issue.resolved', 'fix.generated', 'fix.applied', 'config.changed', 'access.granted', 'access.revoked', 'other.thing'].map(complianceAgentCategory);
    expect(categories).toEqual(['COMPLIANCE', 'COMPLIANCE', 'COMPLIANCE', 'COMPLIANCE', 'COMPLIANCE', 'COMPLIANCE', 'COMPLIANCE', 'CONFIGURATION', 'ACCESS', 'ACCESS', 'OTHER']);
  });

  it('leaves out only entries without an id or a readable timestamp, as entries that cannot be placed', () => {
    const { id: _id, ...noId } = LIST_ENTRY;
    const { timestamp: _timestamp, ...noTime } = LIST_ENTRY;
    for (const entry of [noId, noTime, { ...LIST_ENTRY, id: '' }, { ...LIST_ENTRY, id: 7 }, { ...LIST_ENTRY, timestamp: 'yesterday' }, { ...LIST_ENTRY, timestamp: null }, null, []]) {
      expect(() => parseComplianceAgentLog(entry)).toThrow(UnusableRecord);
      expect(unplaceableReason(entry)).not.toBeNull();
    }
    expect(unplaceableReason(LIST_ENTRY)).toBeNull();
  });

  it('reads every optional field leniently: null, empty or of another type is absent', () => {
    const nulls: JsonObject = {
      ...LIST_ENTRY,
      resource: null,
      repository: null,
      details: null,
      ip_address: null,
      user_agent: null,
      session_id: null,
      request_id: null,
      actor: { type: 'user', id: 'user_123', email: null, name: null },
      hash: null,
      previous_hash: null,
    };
    expect(normalizeComplianceAgentLog(parseComplianceAgentLog(nulls), 'ca')).toMatchObject({
      actor: { sourceActorId: 'user_123', type: 'USER', name: null, email: null },
      target: null,
      repository: null,
      details: null,
      integrity: null,
      request: { clientIp: null, userAgent: null, sessionId: null, requestId: null },
    });
    const odd: JsonObject = { ...LIST_ENTRY, event_type: 42, actor: 'dev', resource: { type: 'issue' }, repository: { id: '' }, ip_address: 17, details: [] };
    expect(normalizeComplianceAgentLog(parseComplianceAgentLog(odd), 'ca')).toMatchObject({
      action: 'unknown',
      category: 'OTHER',
      actor: { sourceActorId: null, type: 'UNKNOWN', name: null, email: null },
      target: null,
      repository: null,
      details: [],
      request: { clientIp: null },
    });
  });

  it('keeps the kind of an actor without an id, and an id without a kind', () => {
    const system = normalizeComplianceAgentLog(parseComplianceAgentLog({ ...LIST_ENTRY, actor: { type: 'system' } }), 'ca');
    expect(system.actor).toEqual({ sourceId: 'ca', sourceActorId: null, type: 'SYSTEM', name: null, email: null });
    const untyped = normalizeComplianceAgentLog(parseComplianceAgentLog({ ...LIST_ENTRY, actor: { id: 'user_123', email: 'dev@acme.com' } }), 'ca');
    expect(untyped.actor).toEqual({ sourceId: 'ca', sourceActorId: 'user_123', type: 'UNKNOWN', name: null, email: 'dev@acme.com' });
  });

  it('refuses an entry looked up by id that cannot be placed', () => {
    const attempt = () => normalizeRecord('ca', { ...LIST_ENTRY, id: '' }, parseComplianceAgentLog, normalizeComplianceAgentLog);
    expect(attempt).toThrow(UpstreamError);
    try {
      attempt();
    } catch (error) {
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamMalformedResponse);
    }
  });
});
