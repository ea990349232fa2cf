import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { JsonObject } from '../../../src/models/json';
import { normalizeRecord } from '../../../src/sources/normalize-page';
import {
  complianceAgentCategory,
  flattenComplianceAgentEntry,
  normalizeComplianceAgentLog,
  parseComplianceAgentLog,
} from '../../../src/vendors/complianceagent/normalize';

/** The seed's list-form example, with the chain fields the shared vendor table adds. */
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

/** The seed's single-entry form of the same entry. */
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

  it('refuses entries without an id or a readable timestamp', () => {
    const { id: _id, ...noId } = LIST_ENTRY;
    expect(() => parseComplianceAgentLog(noId)).toThrow('id');
    expect(() => parseComplianceAgentLog({ ...LIST_ENTRY, timestamp: 'yesterday' })).toThrow('timestamp');
    expect(() => parseComplianceAgentLog({ ...LIST_ENTRY, actor: 'dev' })).toThrow('actor');
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
