import { createHmac } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event';
import { SyntheticDataset } from '../../simulation/dataset';
import { clientIpFor, personFor, userAgentFor } from '../../simulation/people';
import { choose, pick, unit } from '../../simulation/random';
import { commonServerOptions, startSimulatorServer, type SimRequest, type SimResponse } from '../../simulation/server';
import type { RunningSimulator, SimulatorStartOptions } from '../../sources/vendor-module';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from './normalize';
import type { RawNirvanaAuditLog, RawNirvanaAuditLogList } from './wire-types';

/**
 * A stand-in for Nirvana Labs' audit log API, as shared/vendors/nirvana.md describes it.
 *
 * Choices the vendor leaves open, made once here:
 * - order: newest first (`created_at` desc, ties by id desc); `sort=created_at:asc` (current API)
 *   lists oldest first, and a cursor only works with the sort it was issued for. `seedEra`
 *   ignores `sort`, as the seed-era API did;
 * - `limit`: default 10, 10 to 100, anything else is a 400 `{message}`;
 * - cursors: opaque, HMAC-signed; `next_cursor` continues towards older entries,
 *   `previous_cursor` towards newer ones; both null at their end;
 * - errors: `{ "message": … }` with the SDK's status classes.
 */
export interface NirvanaSimulatorOptions extends SimulatorStartOptions {
  /** The API key the simulator accepts; default a random one. */
  apiKey?: string;
  /** Time of the newest event, ms. */
  endMs?: number;
  knobs?: Parameters<typeof startSimulatorServer>[0]['knobs'];
  /**
   * Behave like the seed-era API: no `sort` parameter (it is ignored, the list is newest first).
   * By default the simulator follows the current API, which honours `sort=created_at:asc|desc`.
   */
  seedEra?: boolean;
}

/** Salt for ids, so that actor, target and event ids of one index differ. */
const NS = { event: 1, actor: 2, target: 3 } as const;

const RESOURCES = ['vm', 'volume', 'vpc', 'firewall_rule', 'api_key', 'project', 'user'] as const;
const VERBS = ['created', 'updated', 'deleted', 'listed'] as const;
const PATHS: Record<(typeof RESOURCES)[number], string> = {
  vm: '/v1/compute/vms',
  volume: '/v1/compute/volumes',
  vpc: '/v1/networking/vpcs',
  firewall_rule: '/v1/networking/firewall_rules',
  api_key: '/v1/api_keys',
  project: '/v1/projects',
  user: '/v1/users',
};
const METHODS: Record<(typeof VERBS)[number], string> = { created: 'POST', updated: 'PATCH', deleted: 'DELETE', listed: 'GET' };

/** The wire record of event `index` of `dataset`. */
export function nirvanaRecord(dataset: SyntheticDataset, index: number): RawNirvanaAuditLog {
  const seed = dataset.seed;
  const resource = choose(RESOURCES, seed, index, 10);
  const verb = choose(VERBS, seed, index, 11);
  const method = METHODS[verb];
  const apiKeyActor = unit(seed, index, 12) < 0.2;
  const person = personFor(seed, index, 13, 40, 'example.com');
  const actorIndex = apiKeyActor ? 10_000 + (person.n % 6) : person.n;
  const targetIndex = pick(seed, index, 14, 300);
  const targetId = dataset.uuidOf(targetIndex, NS.target);
  const failed = unit(seed, index, 15) < 0.06;
  const record: RawNirvanaAuditLog = {
    id: dataset.uuidOf(index, NS.event),
    action: `${resource}.${verb}`,
    actor: {
      id: dataset.uuidOf(actorIndex, NS.actor),
      name: apiKeyActor ? `ci-deploy-key-${actorIndex - 10_000}` : person.name,
      type: apiKeyActor ? 'api_key' : 'user',
    },
    client_ip: clientIpFor(seed, index, 16),
    created_at: new Date(dataset.timeOf(index)).toISOString(),
    method,
    path: verb === 'created' || verb === 'listed' ? PATHS[resource] : `${PATHS[resource]}/${targetId}`,
    status_code: failed ? choose([403, 404, 422], seed, index, 17) : verb === 'created' ? 201 : 200,
    user_agent: userAgentFor(seed, index, 18),
  };
  if (verb !== 'listed') record.target = { id: targetId, type: resource };
  return record;
}

interface PagePosition {
  /** 'o': entries older than index `i`; 'n': entries newer than index `i`. */
  d: 'o' | 'n';
  i: number;
  /** The sort the cursor was issued for ('a' = created_at:asc); absent = newest first. */
  s?: 'a';
}

/** Starts the simulator on loopback. */
export async function startNirvanaSimulator(options: NirvanaSimulatorOptions): Promise<RunningSimulator> {
  const dataset = new SyntheticDataset({ size: options.size, seed: options.seed, ...(options.endMs !== undefined ? { endMs: options.endMs } : {}) });
  const apiKey = options.apiKey ?? `nl_sim_${createHmac('sha256', String(Math.random())).digest('hex').slice(0, 24)}`;
  const cursorKey = `nirvana-sim-${options.seed}`;

  const encodeCursor = (position: PagePosition) => {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${createHmac('sha256', cursorKey).update(body).digest('base64url').slice(0, 10)}`;
  };
  const decodeCursor = (cursor: string): PagePosition | null => {
    const [body, mac] = cursor.split('.');
    if (!body || !mac || createHmac('sha256', cursorKey).update(body).digest('base64url').slice(0, 10) !== mac) return null;
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PagePosition;
    return parsed.d === 'o' || parsed.d === 'n' ? parsed : null;
  };

  const list = (request: SimRequest): SimResponse => {
    const limitText = request.query.get('limit');
    const limit = limitText === null ? 10 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 10 || limit > 100) return { status: 400, json: { message: 'limit must be an integer between 10 and 100' } };
    const cursorText = request.query.get('cursor');
    const position = cursorText ? decodeCursor(cursorText) : null;
    if (cursorText && !position) return { status: 400, json: { message: 'invalid cursor' } };
    // The current API honours `sort` and ties a cursor to the sort it was issued for.
    const sortText = options.seedEra ? null : request.query.get('sort');
    if (sortText !== null && sortText !== 'created_at:asc' && sortText !== 'created_at:desc') {
      return { status: 400, json: { message: 'sort must be created_at:asc or created_at:desc' } };
    }
    const ascending = sortText === 'created_at:asc';
    if (position && (position.s === 'a') !== ascending) return { status: 400, json: { message: 'cursor was issued for another sort order' } };

    // Indexes ascend with time. 'o' pages go towards older entries, 'n' pages towards newer ones.
    let hi: number;
    let lo: number;
    if (!position) {
      if (ascending) {
        lo = 0;
        hi = Math.min(dataset.size - 1, limit - 1);
      } else {
        hi = dataset.size - 1;
        lo = Math.max(0, hi - limit + 1);
      }
    } else if (position.d === 'o') {
      hi = position.i - 1;
      lo = Math.max(0, hi - limit + 1);
    } else {
      lo = position.i + 1;
      hi = Math.min(dataset.size - 1, lo + limit - 1);
    }
    const items: RawNirvanaAuditLog[] = [];
    if (ascending) for (let i = Math.max(lo, 0); i <= hi; i++) items.push(nirvanaRecord(dataset, i));
    else for (let i = hi; i >= lo && i >= 0; i--) items.push(nirvanaRecord(dataset, i));
    const older = items.length > 0 && lo > 0 ? encodeCursor({ d: 'o', i: lo, ...(ascending ? { s: 'a' as const } : {}) }) : null;
    const newer = items.length > 0 && hi < dataset.size - 1 ? encodeCursor({ d: 'n', i: hi, ...(ascending ? { s: 'a' as const } : {}) }) : null;
    // `next_cursor` follows the sort; `previous_cursor` goes back against it.
    const body: RawNirvanaAuditLogList = {
      items,
      pagination: { next_cursor: ascending ? newer : older, previous_cursor: ascending ? older : newer, total_count: dataset.size },
    };
    return { status: 200, json: body };
  };

  const server = await startSimulatorServer({
    ...commonServerOptions(options),
    errorBody: (status, message) => ({ message, status }),
    authorize: (request) =>
      request.headers.authorization === `Bearer ${apiKey}` ? null : { status: 401, json: { message: 'Unauthorized: invalid API key' } },
    append: (count) => dataset.append(count),
    routes: [
      { method: 'GET', pattern: '/v1/audit_logs', list: true, handle: list },
      {
        method: 'GET',
        pattern: '/v1/audit_logs/:id',
        handle: (_request, params) => {
          const index = dataset.indexOfUuid(params['id'] ?? '', NS.event);
          return index === null ? { status: 404, json: { message: 'audit log not found' } } : { status: 200, json: nirvanaRecord(dataset, index) };
        },
      },
    ],
  });

  return {
    baseUrl: server.baseUrl,
    credentials: { apiKey },
    control: server.control,
    dataset,
    stop: server.stop,
    expectedEvents(sourceId: string): AuditEventModel[] {
      const events: AuditEventModel[] = [];
      for (let i = 0; i < dataset.size; i++) events.push(normalizeNirvanaAuditLog(parseNirvanaAuditLog(nirvanaRecord(dataset, i)), sourceId));
      return events;
    },
  };
}
