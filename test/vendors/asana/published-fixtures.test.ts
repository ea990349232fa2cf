import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActorModel, AuditEventModel, RequestContextModel, TargetModel } from '../../../src/models/audit-event';
import type { JsonObject, JsonValue } from '../../../src/models/json';
import { windowQuery, type AuditDataSource, type Direction, type ListEventsResult, type SourceQuery, type SourceResume } from '../../../src/sources/data-source';
import { asanaModule } from '../../../src/vendors/asana';
import { dataSourceFor } from '../../helpers/datasource';
import { startFixtureServer, type FixtureRequest, type FixtureServer } from '../../helpers/fixture-server';

/*
 * The real AsanaDataSource over loopback against pages built from Asana's published OpenAPI
 * spec (see each fixture's `_source`), not against our simulator: what the spec shows must map
 * field by field, and the request must use the parameters the spec documents.
 */

interface FixturePage {
  _source: JsonObject;
  response: { data: JsonObject[]; next_page: { offset: string; path: string; uri: string } | null };
}

interface ParameterFixture {
  path: string;
  query: Record<string, { type: string; enum?: string[]; minimum?: number; maximum?: number }>;
}

const FIXTURES = join(__dirname, '../../fixtures/asana');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
const PAGES = ['page-1-spec-examples.json', 'page-2-sparse-events.json', 'page-3-stream-end.json'].map((name) => load<FixturePage>(name));
const PARAMETERS = load<ParameterFixture>('parameters.json');

/** The spec's example workspace gid (`components.parameters.workspace_path_gid`). */
const WORKSPACE = '12345';
const TOKEN = 'service-account-token';
const SOURCE = 'asana-test';
/** The spec's server; links in the fixtures point at it and are served on the loopback origin. */
const SPEC_ORIGIN = 'https://app.asana.com';
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36';

/** Serves the pages as Asana pages one traversal: the first without `offset`, each next one by the offset of the page before. */
async function startAsanaFixtureUpstream(): Promise<FixtureServer> {
  const byOffset = new Map<string | null, FixturePage>([[null, PAGES[0]!]]);
  PAGES.forEach((page, index) => {
    if (page.response.next_page && PAGES[index + 1]) byOffset.set(page.response.next_page.offset, PAGES[index + 1]!);
  });
  let origin = '';
  const server = await startFixtureServer((request) => {
    if (request.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, json: { errors: [{ message: 'Not Authorized' }] } };
    if (request.path !== `/api/1.0${PARAMETERS.path.replace('{workspace_gid}', WORKSPACE)}`) return { status: 404, json: { errors: [{ message: 'Not Found' }] } };
    const offset = request.query.get('offset');
    const page = byOffset.get(offset);
    if (!page) return { status: 400, json: { errors: [{ message: 'offset: Invalid offset token' }] } };
    return { json: onOrigin(withinBounds(page.response, request.query, offset === null), origin) };
  });
  origin = server.baseUrl;
  return server;
}

/**
 * The page as `start_at` (inclusive) and `end_at` (exclusive) select it; with no match at all on
 * a first request, `next_page` is null as the spec says. Other filters are left to the gateway.
 */
function withinBounds(response: FixturePage['response'], query: URLSearchParams, first: boolean): FixturePage['response'] {
  const startAt = query.get('start_at');
  const endAt = query.get('end_at');
  if (startAt === null && endAt === null) return response;
  const data = response.data.filter((item) => {
    const at = typeof item['created_at'] === 'string' ? Date.parse(item['created_at']) : Number.NaN;
    return (startAt === null || at >= Date.parse(startAt)) && (endAt === null || at < Date.parse(endAt));
  });
  return { data, next_page: first && data.length === 0 ? null : response.next_page };
}

function onOrigin(response: FixturePage['response'], origin: string): FixturePage['response'] {
  const next = response.next_page;
  return next ? { ...response, next_page: { ...next, uri: next.uri.replace(SPEC_ORIGIN, origin) } } : response;
}

async function withUpstream(test: (dataSource: AuditDataSource, server: FixtureServer) => Promise<void>): Promise<void> {
  const server = await startAsanaFixtureUpstream();
  let dataSource: AuditDataSource | undefined;
  try {
    dataSource = dataSourceFor(asanaModule, { baseUrl: `${server.baseUrl}/api/1.0`, credentials: { token: TOKEN, workspaceGid: WORKSPACE } });
    await test(dataSource, server);
  } finally {
    await dataSource?.close();
    await server.close();
  }
}

function list(dataSource: AuditDataSource, direction: Direction, resume: SourceResume | null, query: SourceQuery = windowQuery(null, null)): Promise<ListEventsResult> {
  return dataSource.listEvents({ direction, query, resume, limit: 100, signal: AbortSignal.timeout(10_000) });
}

const record = (page: number, index: number): JsonObject => PAGES[page]!.response.data[index]!;

/** An event as the datasource must map it, every field spelled out; `actor` and `target` carry only what the record has. */
function event(fields: {
  raw: JsonObject;
  action: string;
  category: AuditEventModel['category'];
  actor: Omit<ActorModel, 'sourceId'>;
  target: Omit<TargetModel, 'sourceId'> | null;
  request: Partial<RequestContextModel> | null;
  details: JsonValue | null;
  failed: boolean | null;
}): AuditEventModel {
  const { raw } = fields;
  return {
    sourceId: SOURCE,
    vendor: 'asana',
    sourceEventId: raw['gid'] as string,
    action: fields.action,
    category: fields.category,
    occurredAtMs: Date.parse(raw['created_at'] as string),
    actor: { sourceId: SOURCE, ...fields.actor },
    target: fields.target && { sourceId: SOURCE, ...fields.target },
    request: fields.request && { clientIp: null, userAgent: null, httpMethod: null, path: null, statusCode: null, sessionId: null, traceId: null, requestId: null, origin: null, ...fields.request },
    repository: null,
    details: fields.details,
    integrity: null,
    failed: fields.failed,
    raw,
  };
}

const GREG = { sourceActorId: '1111', type: 'USER', name: 'Greg Sanchez', email: 'gregsanchez@example.com' } as const;
const GREG_AS_TARGET = { sourceTargetId: '1111', type: 'user', name: 'Greg Sanchez', email: 'gregsanchez@example.com' } as const;
const NO_ACTOR = { sourceActorId: null, type: 'UNKNOWN', name: null, email: null } as const;
const REQUESTED_BY_12345 = { sourceId: SOURCE, sourceActorId: '12345', type: 'USER', name: null, email: null } as const;

describe('Asana published examples, through the real datasource over loopback', () => {
  it("maps the spec's example event field by field, with the rule, the requester and the resource subtype", async () => {
    await withUpstream(async (dataSource) => {
      const { events } = await list(dataSource, 'ASC', null);
      expect(events[0]).toStrictEqual(
        event({
          raw: record(0, 0),
          action: 'task_deleted',
          category: 'DATA',
          actor: { ...GREG, automation: 'When Task is added to this project', onBehalfOf: REQUESTED_BY_12345 },
          target: { sourceTargetId: '1111', type: 'task', name: 'Example Task', subtype: 'milestone' },
          request: { clientIp: '1.1.1.1', userAgent: USER_AGENT, origin: 'web' },
          details: { old_value: null, new_value: null },
          failed: null,
        }),
      );
    });
  });

  it('maps the variants built from the enums: an anonymous failed login, a support change on request, an OAuth app call', async () => {
    await withUpstream(async (dataSource) => {
      const { events } = await list(dataSource, 'ASC', null);
      expect(events.slice(1)).toStrictEqual([
        event({
          raw: record(0, 1),
          action: 'user_login_failed',
          category: 'AUTHENTICATION',
          actor: { sourceActorId: null, type: 'ANONYMOUS', name: null, email: null },
          target: GREG_AS_TARGET,
          request: { clientIp: '1.1.1.1', userAgent: USER_AGENT, origin: 'web' },
          details: { saml_response: null },
          failed: true,
        }),
        event({
          raw: record(0, 2),
          action: 'user_division_admin_role_changed',
          category: 'ACCESS',
          actor: { sourceActorId: null, type: 'VENDOR_SUPPORT', name: null, email: null, onBehalfOf: REQUESTED_BY_12345 },
          target: GREG_AS_TARGET,
          request: { origin: 'asana_support' },
          details: { old_value: null, new_value: null },
          failed: null,
        }),
        event({
          raw: record(0, 3),
          action: 'task_deleted',
          category: 'DATA',
          actor: { ...GREG, application: 'Example OAuth App' },
          target: { sourceTargetId: '1111', type: 'task', name: 'Example Task' },
          request: { clientIp: '1.1.1.1', userAgent: USER_AGENT, origin: 'api' },
          details: null,
          failed: null,
        }),
      ]);
    });
  });

  it('follows the offsets through a page of sparse records, leaving out and counting the two without gid or created_at, and stops on empty data', async () => {
    await withUpstream(async (dataSource, server) => {
      const first = await list(dataSource, 'ASC', null);
      const second = await list(dataSource, 'ASC', first.next);
      const third = await list(dataSource, 'ASC', second.next);
      expect(first.unusableRecords).toBeUndefined();
      expect(second.unusableRecords).toBe(2);
      expect(second.events).toStrictEqual([
        event({ raw: record(1, 0), action: 'unknown', category: 'OTHER', actor: NO_ACTOR, target: null, request: null, details: null, failed: null }),
        event({ raw: record(1, 1), action: 'task_deleted', category: 'DATA', actor: NO_ACTOR, target: null, request: null, details: null, failed: null }),
        event({
          raw: record(1, 2),
          action: 'task_deleted',
          category: 'DATA',
          actor: NO_ACTOR,
          target: { sourceTargetId: '1111', type: 'task', name: null },
          request: { origin: 'web' },
          details: null,
          failed: null,
        }),
      ]);
      // Asana keeps sending next_page after the last event: the empty page is the end.
      expect(third).toEqual({ events: [], next: null, upstreamRequests: 1 });
      expect(server.requests.map((request) => request.query.get('offset'))).toEqual([null, PAGES[0]!.response.next_page!.offset, PAGES[1]!.response.next_page!.offset]);
    });
  });

  it.each<[string, Partial<SourceQuery>]>([
    ['a window, an action, an actor and a resource', { fromMs: Date.UTC(2021, 0, 1), toMs: Date.UTC(2021, 0, 2), actions: ['task_deleted'], actorIds: ['1111'], targetIds: ['1111'] }],
    ['an actor kind without an id', { actorTypes: ['VENDOR_SUPPORT'] }],
    ['an actor together with its kind', { actorIds: ['1111'], actorTypes: ['SYSTEM'] }],
    ['a kind two actor types produce', { actorTypes: ['USER'] }],
  ])('asks only with the parameters the spec documents, as it documents them (%s)', async (_name, filter) => {
    const query: SourceQuery = { ...windowQuery(null, null), ...filter };
    for (const direction of ['ASC', 'DESC'] as const) {
      await withUpstream(async (dataSource, server) => {
        await list(dataSource, direction, null, query);
        expect(server.requests.length).toBeGreaterThan(0);
        for (const request of server.requests) expectDocumented(request, query);
      });
    }
  });
});

/** Every parameter of `request` is one the spec lists, with a value its schema allows and the meaning `query` asks for. */
function expectDocumented(request: FixtureRequest, query: SourceQuery): void {
  const params = Object.fromEntries(request.query);
  expect(Object.keys(params).filter((name) => !(name in PARAMETERS.query))).toEqual([]);
  const limit = Number(params['limit']);
  expect(limit).toBeGreaterThanOrEqual(PARAMETERS.query['limit']!.minimum!);
  expect(limit).toBeLessThanOrEqual(PARAMETERS.query['limit']!.maximum!);
  // "If `actor_gid` is included, this should be excluded."
  expect('actor_type' in params && 'actor_gid' in params).toBe(false);
  if (params['actor_type'] !== undefined) expect(PARAMETERS.query['actor_type']!.enum).toContain(params['actor_type']);
  expect(params['event_type']).toBe(query.actions?.[0]);
  expect(params['actor_gid']).toBe(query.actorIds?.[0]);
  expect(params['resource_gid']).toBe(query.targetIds?.[0]);
  // `start_at` is inclusive and `end_at` exclusive, like the query's own bounds, so they are sent as they are.
  if (query.fromMs !== null) expect(Date.parse(params['start_at']!)).toBeGreaterThanOrEqual(query.fromMs);
  if (query.toMs !== null) expect(Date.parse(params['end_at']!)).toBeLessThanOrEqual(query.toMs);
}
