import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonObject, JsonValue } from '../../../src/models/json';
import { isJsonObject } from '../../../src/models/json';
import { parseAgilicusTime } from '../../../src/vendors/agilicus/normalize';
import { startFixtureServer, type FixtureRequest, type FixtureResponse, type FixtureServer } from '../../helpers/fixture-server';

/** A fixture file of `test/fixtures/agilicus/`: where it comes from, and the answer it holds. */
export interface AgilicusFixture {
  source: Record<string, JsonValue>;
  response: { status: number; body: JsonValue };
}

/** Reads `test/fixtures/agilicus/<name>`. */
export function agilicusFixture(name: string): AgilicusFixture {
  const text = readFileSync(path.join(__dirname, '../../fixtures/agilicus', name), 'utf8');
  return JSON.parse(text) as AgilicusFixture;
}

/** The records of a fixture's list body (`audits` or `auth_audits`), as served. */
export function fixtureRecords(fixture: AgilicusFixture, listField: 'audits' | 'auth_audits'): JsonValue[] {
  const body = fixture.response.body;
  const list = isJsonObject(body) ? body[listField] : undefined;
  return Array.isArray(list) ? list : [];
}

/**
 * One record an {@link AgilicusUpstream} holds: the JSON it sends, and the time it files the
 * record under. The two differ only for records whose own `time` is missing or unreadable,
 * which an upstream still stores somewhere.
 */
export interface StoredRecord {
  json: JsonValue;
  storedAtMs: number;
}

/** Records per endpoint, newest first or in any order. */
export interface UpstreamRecords {
  audits: StoredRecord[];
  authAudits: StoredRecord[];
}

/** A running stand-in upstream, with every request it answered. */
export interface AgilicusUpstream extends FixtureServer {
  /** The answer to `path` with `query`, without a request: what the upstream would send. */
  answer(path: string, query: URLSearchParams): FixtureResponse;
}

/** Parameters the newest SDK documents, each an exact comparison with the record field it names. */
const FILTERS: Record<string, Record<string, string>> = {
  '/v1/audits': { user_id: 'user_id', org_id: 'org_id', action: 'action', target_id: 'target_id', token_id: 'token_id', api_name: 'api_name', target_resource_type: 'target_resource_type' },
  '/v1/auth_audits': {
    user_id: 'user_id', org_id: 'org_id', session_id: 'session', trace_id: 'trace_id', upstream_user_id: 'upstream_user_id', upstream_idp: 'upstream_idp',
    login_org_id: 'login_org_id', source_ip: 'source_ip', client_id: 'client_id', event: 'event', stage: 'stage', request_id: 'request_id', result: 'result',
    event_name: 'event_name',
  },
};

/**
 * Serves fixed records the way the published AuditsApi describes: `dt_from` inclusive, `dt_to`
 * exclusive, at most `limit` records (default 500) newest first, `{limit, audits | auth_audits}`,
 * and every documented filter as an exact comparison (a record without the field never matches).
 */
export async function startAgilicusUpstream(records: UpstreamRecords): Promise<AgilicusUpstream> {
  const answer = (pathname: string, query: URLSearchParams): FixtureResponse => {
    const [listField, stored] = pathname === '/v1/audits' ? ['audits', records.audits] as const : ['auth_audits', records.authAudits] as const;
    const limit = Number(query.get('limit') ?? 500);
    const from = query.get('dt_from') ? Date.parse(query.get('dt_from')!) : -Infinity;
    const to = query.get('dt_to') ? Date.parse(query.get('dt_to')!) : Infinity;
    const filters = Object.entries(FILTERS[pathname] ?? {}).flatMap(([param, field]) => (query.get(param) ? [[field, query.get(param)!] as const] : []));
    const found = stored
      .filter((record) => record.storedAtMs >= from && record.storedAtMs < to)
      .filter((record) => filters.every(([field, value]) => isJsonObject(record.json) && record.json[field] === value))
      .sort((a, b) => b.storedAtMs - a.storedAtMs)
      .slice(0, limit)
      .map((record) => record.json);
    return { status: 200, json: { limit, [listField]: found } };
  };
  const server = await startFixtureServer((request: FixtureRequest) => answer(request.path, request.query));
  return { ...server, answer };
}

/** Records of a fixture list, each filed under its own `time` (or `fallbackMs` when it has none). */
export function storedAtOwnTime(records: readonly JsonValue[], fallbackMs: number): StoredRecord[] {
  return records.map((json) => {
    const time = isJsonObject(json) && typeof json['time'] === 'string' ? parseAgilicusTime(json['time']) : Number.NaN;
    return { json, storedAtMs: Number.isNaN(time) ? fallbackMs : time };
  });
}

/** A record whose every field is a copy of `template`'s, with `time` at `ms` (or `time` as given). */
export function recordAt(template: JsonObject, ms: number, time: JsonValue = new Date(ms).toISOString()): StoredRecord {
  return { json: { ...template, time }, storedAtMs: ms };
}
