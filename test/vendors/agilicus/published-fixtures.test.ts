import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditEventModel } from '../../../src/models/audit-event';
import type { AuditDataSource, ListEventsResult } from '../../../src/sources/data-source';
import { agilicusModule } from '../../../src/vendors/agilicus';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';
import { startFixtureServer, type FixtureResponse, type FixtureServer } from '../../helpers/fixture-server';
import { agilicusFixture, fixtureRecords, type AgilicusFixture } from './fixture-upstream';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.fixture.signature';
const ORG_ID = 'G99q3lasls29wsk3XkYFUN';
const SOURCE = 'agilicus-fixtures';

/** The fixture's answer as the fixture server sends it. */
function served(fixture: AgilicusFixture): FixtureResponse {
  return { status: fixture.response.status, json: fixture.response.body };
}

/** Runs `body` with a datasource over a server answering `/v1/audits` and `/v1/auth_audits` with the given fixtures. */
async function withFixtures(
  fixtures: { audits: AgilicusFixture; authAudits: AgilicusFixture },
  body: (dataSource: AuditDataSource, server: FixtureServer) => Promise<void>,
): Promise<void> {
  const server = await startFixtureServer((request) => served(request.path === '/v1/audits' ? fixtures.audits : fixtures.authAudits));
  const dataSource = dataSourceFor(agilicusModule, { baseUrl: server.baseUrl, credentials: { token: TOKEN, orgId: ORG_ID } }, { id: SOURCE });
  try {
    await body(dataSource, server);
  } finally {
    await dataSource.close();
    await server.close();
  }
}

function listOnce(dataSource: AuditDataSource): Promise<ListEventsResult> {
  return dataSource.listEvents({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 100, signal: AbortSignal.timeout(5000) });
}

/** The event whose `raw` is `record` (the datasource keeps each record as received). */
function eventOf(events: readonly AuditEventModel[], record: unknown): AuditEventModel {
  const found = events.find((event) => JSON.stringify(event.raw) === JSON.stringify(record));
  if (!found) throw new Error('no event for the fixture record');
  return found;
}

const NO_REQUEST = { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: null, sessionId: null, traceId: null, requestId: null, origin: null };

describe('Agilicus published SDK shapes (1.405.8) through the real datasource over loopback', () => {
  const auditsFixture = agilicusFixture('list-audits.json');
  const authFixture = agilicusFixture('list-auth-audits.json');
  const audits = fixtureRecords(auditsFixture, 'audits');
  const auth = fixtureRecords(authFixture, 'auth_audits');

  it('asks each endpoint once with the documented parameters and Bearer token', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource, server) => {
      const result = await listOnce(dataSource);
      expect(result.next).toBeNull();
      expect(result.upstreamRequests).toBe(2);
      expect(server.requests.map((request) => request.path).sort()).toEqual(['/v1/audits', '/v1/auth_audits']);
      for (const request of server.requests) {
        expect(request.method).toBe('GET');
        expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
        expect(request.headers.accept).toBe('application/json');
        expect(Object.fromEntries(request.query)).toEqual({ limit: '100', org_id: ORG_ID });
      }
    });
  });

  it('serves every record that has a time, newest first, and counts the one without', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const result = await listOnce(dataSource);
      expect(result.events).toHaveLength(audits.length - 1 + auth.length);
      expect(result.unusableRecords).toBe(1);
      const times = result.events.map((event) => event.occurredAtMs);
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(result.events.every((event) => /^(audit|auth):\d+:[0-9a-f]{32}$/.test(event.sourceEventId))).toBe(true);
    });
  });

  it('maps the 15-field Audit field by field', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const event = eventOf((await listOnce(dataSource)).events, audits[0]);
      expect(event).toEqual({
        sourceId: SOURCE,
        vendor: 'agilicus',
        sourceEventId: expect.stringMatching(/^audit:1768917802518:[0-9a-f]{32}$/),
        action: 'CREATE',
        category: 'CONFIGURATION',
        occurredAtMs: Date.UTC(2026, 0, 20, 14, 3, 22, 518),
        actor: { sourceId: SOURCE, sourceActorId: 'tuU7smH86zAXMz8Nkie39D', type: 'USER', name: null, email: null, organizationId: ORG_ID },
        target: { sourceId: SOURCE, sourceTargetId: '6fNGPhJdpm4ZBTWY7BXRhN', type: 'application_service', name: null },
        request: { ...NO_REQUEST, clientIp: '192.0.2.3', sessionId: '8JzdKSpAWeQDtKZhNLjgkL', traceId: '1c0b3f0e2a9d4e7c8b5a6f4d3e2c1b0a' },
        repository: null,
        details: {
          kind: 'audit',
          api_name: 'applications',
          org_id: ORG_ID,
          token_id: 'Wg3GwZ9CkwHxUYPxmLk8Sa',
          secondary_id: 'https',
          tertiary_id: '443',
          parent_id: '2jkdCmwB9u7Jh3KIglNZ',
          grandparent_id: 'E6ZuXc4R6SXd9iNC8qAmJp',
        },
        integrity: null,
        failed: null,
        raw: audits[0],
      });
    });
  });

  it('reads nulls as absent: no user is the platform, a target without a resource type is typed by its API', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const event = eventOf((await listOnce(dataSource)).events, audits[1]);
      expect(event).toMatchObject({
        action: 'DELETE',
        category: 'CONFIGURATION',
        occurredAtMs: Date.UTC(2026, 0, 20, 14, 1, 7),
        actor: { sourceActorId: null, type: 'SYSTEM', organizationId: ORG_ID },
        target: { sourceTargetId: 'Jq2MZc7YfVgUhLr5tXw8Bd', type: 'connectors', name: null },
        request: NO_REQUEST,
        details: { kind: 'audit', api_name: 'connectors', org_id: ORG_ID },
        failed: null,
      });
    });
  });

  it('keeps what the model has no place for, such as attributes, in raw only', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const event = eventOf((await listOnce(dataSource)).events, audits[2]);
      expect(event).toMatchObject({
        action: 'UPDATE',
        category: 'ACCESS',
        target: { sourceTargetId: 'tuU7smH86zAXMz8Nkie39D', type: 'role' },
        request: { clientIp: '2001:db8::7', sessionId: null },
        details: { kind: 'audit', api_name: 'permissions', org_id: ORG_ID, secondary_id: 'wiki' },
      });
      expect(event.details).not.toHaveProperty('attributes');
      expect(event.raw['attributes']).toEqual((audits[2] as { attributes: unknown }).attributes);
    });
  });

  it('maps the AuthAudits record field by field', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const event = eventOf((await listOnce(dataSource)).events, auth[0]);
      expect(event).toEqual({
        sourceId: SOURCE,
        vendor: 'agilicus',
        sourceEventId: expect.stringMatching(/^auth:1768917730004:[0-9a-f]{32}$/),
        action: 'Authentication Request:Success',
        category: 'AUTHENTICATION',
        occurredAtMs: Date.UTC(2026, 0, 20, 14, 2, 10, 4),
        actor: {
          sourceId: SOURCE,
          sourceActorId: 'tuU7smH86zAXMz8Nkie39D',
          type: 'USER',
          name: null,
          email: null,
          organizationId: ORG_ID,
          application: 'Wiki',
        },
        target: { sourceId: SOURCE, sourceTargetId: 'my-client-123', type: 'issuer_client', name: 'Wiki' },
        request: {
          ...NO_REQUEST,
          clientIp: '192.0.2.3',
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
          sessionId: '8JzdKSpAWeQDtKZhNLjgkL',
          traceId: '9a8b7c6d5e4f30211203f4e5d6c7b8a9',
          requestId: 'abcd-1234-efgh',
        },
        repository: null,
        details: {
          kind: 'auth',
          org_id: ORG_ID,
          org_name: 'example-corp',
          issuer: 'https://auth.example-corp.agilicus.cloud',
          upstream_idp: 'google',
          upstream_user_id: '104857600000123456789',
          login_org_id: 'Hm3Xw8Lq2Rt6Yz9BcV4NpK',
          login_org_name: 'example-corp-labs',
          token_id: 'Vb7NqR2xKp9LmT4sWz6YcD',
          application_name: 'Wiki',
        },
        integrity: null,
        failed: false,
        raw: auth[0],
      });
    });
  });

  it('makes an auth step without a user ANONYMOUS and reads its result as the verdict', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const { events } = await listOnce(dataSource);
      expect(eventOf(events, auth[1])).toMatchObject({
        action: 'MFA Challenge:Timeout',
        actor: { sourceActorId: null, type: 'ANONYMOUS', organizationId: ORG_ID, application: null },
        target: null,
        request: { ...NO_REQUEST, clientIp: '203.0.113.54', requestId: 'abcd-1234-efgh' },
        details: { kind: 'auth', org_id: ORG_ID, org_name: 'example-corp', issuer: 'https://auth.example-corp.agilicus.cloud' },
        failed: true,
      });
      // The newer fields win over the deprecated pair where a record has both.
      expect(eventOf(events, auth[2])).toMatchObject({ action: 'Identity Provider Callback:Failure', failed: true, actor: { application: 'my-client-123' } });
    });
  });
});

describe('Agilicus older SDK shapes through the real datasource over loopback', () => {
  const auditsFixture = agilicusFixture('list-audits-8-field.json');
  const authFixture = agilicusFixture('list-auth-audits-1.98.6.json');
  const audits = fixtureRecords(auditsFixture, 'audits');
  const auth = fixtureRecords(authFixture, 'auth_audits');

  it('maps the 8-field Audit: no resource type, API, session or composite keys', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const { events, unusableRecords } = await listOnce(dataSource);
      expect(events).toHaveLength(4);
      expect(unusableRecords).toBeUndefined();
      expect(eventOf(events, audits[0])).toMatchObject({
        action: 'CREATE',
        category: 'OTHER',
        occurredAtMs: Date.UTC(2021, 2, 18, 9, 15, 2, 311),
        actor: { sourceActorId: 'tuU7smH86zAXMz8Nkie39D', type: 'USER', organizationId: ORG_ID },
        target: { sourceTargetId: 'Xv4bRk2LmQ8sTy6PwZ1cNd', type: 'unknown', name: null },
        request: { ...NO_REQUEST, clientIp: '198.51.100.20', traceId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' },
        details: { kind: 'audit', org_id: ORG_ID, token_id: 'Wg3GwZ9CkwHxUYPxmLk8Sa' },
      });
      // A time without a zone is UTC, as the API documents its times.
      expect(eventOf(events, audits[1])).toMatchObject({ action: 'GET', occurredAtMs: Date.UTC(2021, 2, 18, 9, 14, 55), target: null });
    });
  });

  it('names 1.98.6 auth records by the deprecated stage and event', async () => {
    await withFixtures({ audits: auditsFixture, authAudits: authFixture }, async (dataSource) => {
      const { events } = await listOnce(dataSource);
      expect(eventOf(events, auth[0])).toMatchObject({
        action: 'Login:Success',
        failed: false,
        actor: { sourceActorId: 'tuU7smH86zAXMz8Nkie39D', type: 'USER', organizationId: ORG_ID, application: 'admin' },
        target: { sourceTargetId: 'admin-portal', type: 'issuer_client', name: 'admin' },
        request: { clientIp: '198.51.100.20', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', requestId: null, sessionId: '8JzdKSpAWeQDtKZhNLjgkL' },
      });
      expect(eventOf(events, auth[1])).toMatchObject({ action: 'Login:Failure', failed: true, actor: { sourceActorId: null, type: 'ANONYMOUS' } });
    });
  });
});

describe('Agilicus envelopes without records, and errors', () => {
  it('reads a body whose list is left out as an empty page', async () => {
    const empty = agilicusFixture('empty-list.json');
    await withFixtures({ audits: empty, authAudits: empty }, async (dataSource) => {
      expect(await listOnce(dataSource)).toEqual({ events: [], next: null, upstreamRequests: 2 });
    });
  });

  it('answers the ErrorMessage of a refused token with UPSTREAM_AUTH_FAILED, passing on none of its text', async () => {
    const refused = agilicusFixture('error-message.json');
    await withFixtures({ audits: refused, authAudits: refused }, async (dataSource) => {
      const error = await listOnce(dataSource).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamAuthFailed);
      expect(JSON.stringify((error as UpstreamError).extensions)).not.toContain('agilicus-cli');
    });
  });
});
