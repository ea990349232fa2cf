import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startFixtureServer, type FixtureRequest, type FixtureResponse, type FixtureServer } from '../../helpers/fixture-server';

/** A fixture file of `test/fixtures/port/`, parsed. */
export function portFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/port', name), 'utf8')) as Record<string, unknown>;
}

/** The token exchange's 200 body, from the spec-shaped fixture. */
export const TOKEN_RESPONSE = portFixture('access-token.json')['response'] as { ok: true; accessToken: string; expiresIn: number; tokenType: string };

/** A Port stand-in on loopback, answering fixed records. */
export interface FakePort {
  baseUrl: string;
  credentials: { clientId: string; clientSecret: string };
  /** Every request received, token exchanges included, in order. */
  requests: FixtureRequest[];
  /** The audit-route requests received so far. */
  auditRequests(): FixtureRequest[];
  close(): Promise<void>;
}

const CREDENTIALS = { clientId: 'fixture-client-id', clientSecret: 'fixture-client-secret' };
const portError = (status: number, error: string, message: string): FixtureResponse => ({ status, json: { ok: false, error, message } });

/**
 * Port's two routes over `records` (raw `audits[]` elements, in any shape): `POST
 * /v1/auth/access_token` answers the fixture token for the right credentials, and `GET
 * /v1/audit-log` applies what the spec documents: every filter ANDed (`identifier`, `resources`,
 * `action`, `status`), `from`/`to` (inclusive here; Port does not say), newest first by
 * `trigger.at` as Port's exporter reads it, at most `limit` (default 10,000), a 404 for an
 * unknown `identifier`. A record without a readable `trigger.at` is in no window: only reads
 * without `from` and `to` return it, after every dated record.
 */
export async function startFakePort(records: readonly unknown[]): Promise<FakePort> {
  const server: FixtureServer = await startFixtureServer((request) => {
    if (request.method === 'POST' && request.path === '/v1/auth/access_token') return exchange(request);
    if (request.method === 'GET' && request.path === '/v1/audit-log') return request.headers.authorization === `Bearer ${TOKEN_RESPONSE.accessToken}` ? list(records, request.query) : portError(401, 'unauthorized', 'Invalid token');
    return portError(404, 'not_found', 'Route not found');
  });
  return {
    baseUrl: server.baseUrl,
    credentials: CREDENTIALS,
    requests: server.requests,
    auditRequests: () => server.requests.filter((request) => request.path === '/v1/audit-log'),
    close: () => server.close(),
  };
}

function exchange(request: FixtureRequest): FixtureResponse {
  const body: unknown = JSON.parse(request.body || 'null');
  const matches = typeof body === 'object' && body !== null && JSON.stringify(body) === JSON.stringify(CREDENTIALS);
  return matches ? { json: TOKEN_RESPONSE } : portError(401, 'unauthorized', 'Invalid client credentials');
}

const field = (record: unknown, key: string): unknown => (typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[key] : undefined);

/** `trigger.at` in ms, or null when the record has none Port could compare. */
export function timeOf(record: unknown): number | null {
  const at = field(field(record, 'trigger'), 'at');
  const ms = typeof at === 'string' ? Date.parse(at) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

function list(records: readonly unknown[], query: URLSearchParams): FixtureResponse {
  const from = query.get('from') === null ? null : Date.parse(query.get('from')!);
  const to = query.get('to') === null ? null : Date.parse(query.get('to')!);
  const limit = query.get('limit') === null ? 10_000 : Number(query.get('limit'));
  const resources = query.getAll('resources');
  const exact: Array<[string, string | null]> = [['identifier', query.get('identifier')], ['action', query.get('action')], ['status', query.get('status')]];
  const inWindow = (ms: number | null) => (from === null && to === null) || (ms !== null && (from === null || ms >= from) && (to === null || ms <= to));
  const selected = records
    .map((record, index) => ({ record, index, ms: timeOf(record) }))
    .filter(({ record, ms }) => inWindow(ms) && (resources.length === 0 || resources.includes(field(record, 'resourceType') as string)) && exact.every(([key, value]) => value === null || field(record, key) === value))
    .sort((x, y) => (y.ms ?? -Infinity) - (x.ms ?? -Infinity) || x.index - y.index);
  if (query.get('identifier') !== null && selected.length === 0) return portError(404, 'not_found', 'A resource with the provided identifier was not found');
  return { json: { ok: true, audits: selected.slice(0, limit).map(({ record }) => record) } };
}
