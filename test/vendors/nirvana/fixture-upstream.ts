import fs from 'node:fs';
import path from 'node:path';
import { startFixtureServer, type FixtureRequest, type FixtureResponse, type FixtureServer } from '../../helpers/fixture-server';

/** One page of a listing fixture: the cursors that lead to it (null = the first page) and, where the upstream honours it, its sort. */
export interface FixturePage {
  cursors: Array<string | null>;
  sort?: string;
  body: unknown;
}

/** A fixture file of `test/fixtures/nirvana/`: where it comes from, and what it serves. */
export interface NirvanaFixture {
  about: Record<string, unknown>;
  pages?: FixturePage[];
  body?: unknown;
}

/** How the loopback upstream treats `sort`. */
export type SortHandling =
  /** The legacy API: `sort` (and every filter) is ignored, pages are found by cursor alone. */
  | 'ignored'
  /** The current API: pages are found by sort and cursor, and a cursor is taken only with its sort. */
  | 'honoured';

/** Options of {@link startNirvanaFixtureUpstream}. */
export interface FixtureUpstreamOptions {
  sort: SortHandling;
  /** `sort` values answered with a 400 `{message}`. */
  refuseSorts?: readonly string[];
  /** Bodies of `GET /v1/audit_logs/{id}`, by id; any other id is a 404. */
  entries?: Readonly<Record<string, unknown>>;
}

export const API_KEY = 'nl_fixture_key';
export const CREDENTIALS = { apiKey: API_KEY };

/** Reads `test/fixtures/nirvana/<name>`. */
export function loadFixture(name: string): NirvanaFixture {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/nirvana', name), 'utf8')) as NirvanaFixture;
}

/** A loopback server answering Nirvana's two audit log routes from fixture pages, with the API key checked as Bearer. */
export async function startNirvanaFixtureUpstream(pages: readonly FixturePage[], options: FixtureUpstreamOptions): Promise<FixtureServer> {
  return startFixtureServer((request) => respond(request, pages, options));
}

/** The `GET /v1/audit_logs` requests a server received, as query strings in order. */
export function listQueries(server: FixtureServer): URLSearchParams[] {
  return server.requests.filter((request) => request.path === '/v1/audit_logs').map((request) => request.query);
}

function respond(request: FixtureRequest, pages: readonly FixturePage[], options: FixtureUpstreamOptions): FixtureResponse {
  if (request.headers.authorization !== `Bearer ${API_KEY}`) return { status: 401, json: { message: 'Unauthorized' } };
  if (request.method !== 'GET') return { status: 405, json: { message: 'method not allowed' } };
  if (request.path === '/v1/audit_logs') return list(request.query, pages, options);
  const id = /^\/v1\/audit_logs\/([^/]+)$/.exec(request.path)?.[1];
  const entry = id === undefined ? undefined : options.entries?.[decodeURIComponent(id)];
  return entry === undefined ? { status: 404, json: { message: 'audit log not found' } } : { json: entry };
}

function list(query: URLSearchParams, pages: readonly FixturePage[], options: FixtureUpstreamOptions): FixtureResponse {
  const limit = Number(query.get('limit') ?? '10');
  if (!Number.isInteger(limit) || limit < 10 || limit > 100) return badRequest('limit must be between 10 and 100');
  const cursor = query.get('cursor');
  if (options.sort === 'ignored') {
    const page = pages.find((candidate) => candidate.cursors.includes(cursor));
    return page ? { json: page.body } : badRequest('invalid cursor');
  }
  const sort = query.get('sort');
  if (sort !== null && options.refuseSorts?.includes(sort)) return badRequest(`unsupported sort: ${sort}`);
  const page = pages.find((candidate) => candidate.cursors.includes(cursor) && (candidate.sort ?? null) === sort);
  if (page) return { json: page.body };
  return badRequest(cursor === null ? 'this fixture lists only with the sorts it holds' : 'cursor is not valid for these filters and sort order');
}

function badRequest(message: string): FixtureResponse {
  return { status: 400, json: { message } };
}
