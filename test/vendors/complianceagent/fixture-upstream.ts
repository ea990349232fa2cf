import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonObject, JsonValue } from '../../../src/models/json';
import { isJsonObject } from '../../../src/models/json';
import { entryHash } from '../../../src/vendors/complianceagent/hash-chain';
import { startFixtureServer, type FixtureRequest, type FixtureResponse, type FixtureServer } from '../../helpers/fixture-server';

/** A fixture file of `test/fixtures/complianceagent/`: where it comes from, and the answer it holds. */
export interface ComplianceAgentFixture {
  source: Record<string, JsonValue>;
  response: { status: number; body: JsonValue };
}

/** Reads `test/fixtures/complianceagent/<name>`. */
export function complianceAgentFixture(name: string): ComplianceAgentFixture {
  return JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/complianceagent', name), 'utf8')) as ComplianceAgentFixture;
}

/** The fixture's answer as the fixture server sends it. */
export function served(fixture: ComplianceAgentFixture): FixtureResponse {
  return { status: fixture.response.status, json: fixture.response.body };
}

/**
 * One entry a {@link startComplianceAgentUpstream} holds: the JSON it lists, and the time it
 * files the entry under (which differs from the entry's own only when that is missing).
 */
export interface StoredEntry {
  json: JsonValue;
  storedAtMs: number;
}

/**
 * Serves `GET /api/v1/audit/logs` the way the published page describes it, with the choices the
 * page leaves open made as the gateway's vendor notes make them: newest first, `page` 1-based,
 * `limit` default 20 and at most 100, `from` inclusive, `to` exclusive, `event_type` and
 * `repository_id` as exact comparisons, and `{success, data, pagination{page, limit, total}}`.
 */
export async function startComplianceAgentUpstream(entries: readonly StoredEntry[]): Promise<FixtureServer> {
  return startFixtureServer((request: FixtureRequest) => (request.path === '/api/v1/audit/logs' ? listPage(entries, request.query) : notFound()));
}

function listPage(entries: readonly StoredEntry[], query: URLSearchParams): FixtureResponse {
  const page = Number(query.get('page') ?? 1);
  const limit = Math.min(100, Number(query.get('limit') ?? 20));
  const from = query.get('from') ? Date.parse(query.get('from')!) : -Infinity;
  const to = query.get('to') ? Date.parse(query.get('to')!) : Infinity;
  const exact = (['event_type', 'repository_id'] as const).flatMap((name) => (query.get(name) ? [[name, query.get(name)!] as const] : []));
  const matching = entries
    .filter((entry) => entry.storedAtMs >= from && entry.storedAtMs < to)
    .filter((entry) => exact.every(([name, value]) => fieldOf(entry.json, name) === value))
    .sort((a, b) => b.storedAtMs - a.storedAtMs);
  const data = matching.slice((page - 1) * limit, page * limit).map((entry) => entry.json);
  return { status: 200, json: { success: true, data, pagination: { page, limit, total: matching.length } } };
}

function fieldOf(json: JsonValue, name: 'event_type' | 'repository_id'): JsonValue | undefined {
  if (!isJsonObject(json)) return undefined;
  if (name === 'event_type') return json['event_type'];
  const repository = json['repository'];
  return isJsonObject(repository) ? repository['id'] : undefined;
}

function notFound(): FixtureResponse {
  return { status: 404, json: { success: false, error: { code: 'NOT_FOUND', message: 'not found' }, meta: { request_id: 'req_x', timestamp: '2024-01-15T10:30:00Z' } } };
}

/**
 * `count` list-form entries one minute apart from `startMs`, oldest first, chained as the vendor
 * notes fix it (each `hash` over the entry without it, `previous_hash` the one before, the first
 * null). `shape(i, entry)` may change an entry before it is hashed: what the vendor wrote.
 */
export function chainedEntries(count: number, startMs: number, shape: (index: number, entry: JsonObject) => JsonObject = (_i, entry) => entry): StoredEntry[] {
  const stored: StoredEntry[] = [];
  let previous: string | null = null;
  for (let i = 0; i < count; i++) {
    const storedAtMs = startMs + i * 60_000;
    const entry = shape(i, {
      id: `log_${String(i).padStart(4, '0')}`,
      event_type: i % 3 === 0 ? 'scan.completed' : 'issue.updated',
      actor: i % 3 === 0 ? { type: 'system', id: 'system_scanner', email: null } : { type: 'user', id: 'user_123', email: 'dev@acme.com' },
      resource: { type: 'issue', id: `issue_${i}`, name: 'Missing encryption for PII' },
      repository: { id: i % 2 === 0 ? 'repo_789' : 'repo_790', name: i % 2 === 0 ? 'acme/web-app' : 'acme/api' },
      details: { previous_status: 'open', new_status: 'in_progress' },
      ip_address: '203.0.113.1',
      user_agent: 'Mozilla/5.0...',
      timestamp: new Date(storedAtMs).toISOString(),
      previous_hash: previous,
    });
    const hash: string = entryHash(entry);
    stored.push({ json: { ...entry, hash }, storedAtMs });
    previous = hash;
  }
  return stored;
}
