import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { JsonObject } from '../../../src/models/json';
import { complianceAgentModule } from '../../../src/vendors/complianceagent';
import { ComplianceAgentDataSource } from '../../../src/vendors/complianceagent/datasource';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { startFixtureServer, type FixtureServer } from '../../helpers/fixture-server';
import { complianceAgentFixture, served, type ComplianceAgentFixture } from './fixture-upstream';

const API_KEY = 'ca_test_sk_fixture';
const SOURCE = 'complianceagent-fixtures';

const NO_REQUEST = { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: null, sessionId: null, traceId: null, requestId: null, origin: null };

/** Runs `body` with a datasource over a server answering every request with `fixture`. */
async function withFixture(fixture: ComplianceAgentFixture, body: (dataSource: ComplianceAgentDataSource, server: FixtureServer) => Promise<void>): Promise<void> {
  const server = await startFixtureServer(() => served(fixture));
  const dataSource = dataSourceFor(complianceAgentModule, { baseUrl: server.baseUrl, credentials: { apiKey: API_KEY } }, { id: SOURCE });
  if (!(dataSource instanceof ComplianceAgentDataSource)) throw new Error('not a ComplianceAgent datasource');
  try {
    await body(dataSource, server);
  } finally {
    await dataSource.close();
    await server.close();
  }
}

function dataOf(fixture: ComplianceAgentFixture): JsonObject {
  return (fixture.response.body as { data: JsonObject }).data;
}

describe('ComplianceAgent published examples through the real datasource over loopback', () => {
  const list = complianceAgentFixture('logs-list.json');
  const single = complianceAgentFixture('logs-single.json');

  it('reads the list example: documented request, envelope and list form, mapped field by field', async () => {
    await withFixture(list, async (dataSource, server) => {
      const batch = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 50, signal: AbortSignal.timeout(5000) });
      const [request] = server.requests;
      expect(request).toMatchObject({ method: 'GET', path: '/api/v1/audit/logs' });
      expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request!.query.get('page')).toBe('1');
      expect(request!.query.get('limit')).toBe('50');
      expect(Number.isNaN(Date.parse(request!.query.get('to')!))).toBe(false);
      // `total` says 1,523 entries: the traversal goes on after the one shown.
      expect(batch.next).toEqual({ t: Date.UTC(2024, 0, 15, 10, 30) + 1, o: 1 });
      expect(batch.unusableRecords).toBeUndefined();
      expect(batch.events).toEqual([
        {
          sourceId: SOURCE,
          vendor: 'complianceagent',
          sourceEventId: 'log_abc123',
          action: 'issue.resolved',
          category: 'COMPLIANCE',
          occurredAtMs: Date.UTC(2024, 0, 15, 10, 30),
          actor: { sourceId: SOURCE, sourceActorId: 'user_123', type: 'USER', name: null, email: 'dev@acme.com' },
          target: { sourceId: SOURCE, sourceTargetId: 'issue_456', type: 'issue', name: 'Missing encryption for PII' },
          request: { ...NO_REQUEST, clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0...' },
          repository: { sourceRepositoryId: 'repo_789', name: 'acme/web-app' },
          details: { previous_status: 'open', new_status: 'fixed', fix_method: 'pull_request', pr_number: 456 },
          // The list form of the page carries no chain fields.
          integrity: null,
          failed: null,
          raw: (dataOf(list) as unknown as JsonObject[])[0],
        },
      ]);
    });
  });

  it('counts the list example by its pagination total', async () => {
    await withFixture(list, async (dataSource, server) => {
      expect(await dataSource.countEvents(NO_FILTER, AbortSignal.timeout(5000))).toBe(1523);
      expect(server.requests[0]!.query.get('limit')).toBe('1');
    });
  });

  it('reads the single-entry example: metadata lifted into the list form, chain fields kept', async () => {
    await withFixture(single, async (dataSource, server) => {
      const event = await dataSource.findEvent('log_abc123', AbortSignal.timeout(5000));
      expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/audit/logs/log_abc123' });
      const { metadata, ...rest } = dataOf(single) as JsonObject & { metadata: JsonObject };
      expect(event).toEqual({
        sourceId: SOURCE,
        vendor: 'complianceagent',
        sourceEventId: 'log_abc123',
        action: 'fix.applied',
        category: 'COMPLIANCE',
        occurredAtMs: Date.UTC(2024, 0, 15, 10, 30),
        actor: { sourceId: SOURCE, sourceActorId: 'user_123', type: 'USER', name: 'Alice Developer', email: 'dev@acme.com' },
        target: { sourceId: SOURCE, sourceTargetId: 'fix_789', type: 'fix', name: null },
        request: { ...NO_REQUEST, clientIp: '203.0.113.1', userAgent: 'Mozilla/5.0...', sessionId: 'sess_abc123', requestId: 'req_xyz789' },
        repository: { sourceRepositoryId: 'repo_789', name: 'acme/web-app' },
        details: {
          fix_type: 'encryption',
          files_changed: ['src/models/user.py', 'src/utils/encryption.py'],
          pull_request: { url: 'https://github.com/acme/web-app/pull/456', number: 456 },
          framework: 'gdpr',
          requirement: 'art_32',
        },
        integrity: { hash: 'sha256:abc123def456...', previousHash: 'sha256:xyz789ghi012...' },
        failed: null,
        // The resource's own keys (`issue_id`) stay in raw only.
        raw: { ...rest, ...metadata },
      });
      expect(event!.raw['resource']).toEqual({ type: 'fix', id: 'fix_789', issue_id: 'issue_456' });
    });
  });

  it('answers the documented error envelope with the gateway code for its status, passing on none of its text', async () => {
    await withFixture(complianceAgentFixture('error.json'), async (dataSource) => {
      const error = await dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 20, signal: AbortSignal.timeout(5000) }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamBadRequest);
      expect(JSON.stringify((error as UpstreamError).extensions)).not.toContain('Repository not found');
    });
  });

  it('reads a NOT_FOUND envelope for one entry as no such entry', async () => {
    await withFixture(complianceAgentFixture('error-not-found.json'), async (dataSource) => {
      expect(await dataSource.findEvent('log_missing', AbortSignal.timeout(5000))).toBeNull();
      expect(await dataSource.getEvent({ sourceEventId: 'log_missing', occurredAtMs: 0 }, AbortSignal.timeout(5000))).toBeNull();
    });
  });
});
