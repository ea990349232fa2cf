import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event';
import { SyntheticDataset } from '../../simulation/dataset';
import { personFor } from '../../simulation/people';
import { choose, hex, pick, unit } from '../../simulation/random';
import { commonServerOptions, startSimulatorServer, type SimRequest, type SimResponse } from '../../simulation/server';
import type { RunningSimulator, SimulatorStartOptions } from '../../simulation/vendor-simulator';
import type { JsonObject } from '../../models/json';
import { expectedPortEvent, type GeneratedPortRecord, type PortActorKind, type PortResourceChoice } from './simulator-expected';
import { PORT_ACTIONS, PORT_RESOURCE_TYPES, type PortAction, type PortResourceType, type RawPortAuditLog, type RawPortAuditLogList, type RawPortTokenResponse } from './wire-types';

/**
 * A stand-in for Port's real audit log API (`GET /v1/audit-log` behind `POST /v1/auth/access_token`).
 *
 * Choices Port leaves open, made once here:
 * - `from` and `to` are inclusive; order is `trigger.at` desc, ties by generation index desc;
 * - `limit` defaults to 10,000 and must be 1 to 100,000 (the old default), else 422;
 * - asking for a token again before expiry returns the same token, with the seconds left;
 * - unknown `identifier` answers `{ok: true, audits: []}`; `identifier` and `status` compare
 *   exactly, and every filter given applies (they are ANDed);
 * - every answer of a route carries `x-ratelimit-*` for a 1,000-a-minute quota that is reported
 *   but not enforced (429s come from the shared knobs, which add only `Retry-After`).
 * Integration resyncs write many entities in one millisecond: the data set has such bursts
 * (always one of 30 events from 200 events up), more than a small `limit`.
 */
export interface PortSimulatorOptions extends SimulatorStartOptions {
  clientId?: string;
  clientSecret?: string;
  /** Time of the newest event, ms; default now, to the second. */
  endMs?: number;
  /** Token lifetime; default 10,800 s (Port's 3 hours). */
  tokenLifetimeSeconds?: number;
  knobs?: Parameters<typeof startSimulatorServer>[0]['knobs'];
}

/** One request to the audit route as the simulator received it. */
export interface LoggedPortRequest {
  path: string;
  query: URLSearchParams;
}

/** Requests kept for {@link RunningPortSimulator.takeRequests}; bounded, so a long demo run does not grow. */
export const PORT_REQUEST_LOG_SIZE = 1_000;

/** The Port simulator's extras beyond {@link RunningSimulator}, for vendor tests. */
export interface RunningPortSimulator extends RunningSimulator {
  /**
   * The audit-route requests answered since the last call (past auth and injected faults), oldest
   * first, at most the last {@link PORT_REQUEST_LOG_SIZE}; forgets them. Shows what a client sent.
   */
  takeRequests(): LoggedPortRequest[];
}

/** Timestamps with Port's burstiness: ties, plus resync bursts of 12 to 61 events in one millisecond. */
export function createPortDataset(options: { size: number; seed: number; endMs?: number }): SyntheticDataset {
  const { size } = options;
  const seed = options.seed >>> 0;
  const times = new Float64Array(size);
  let t = options.endMs ?? Math.floor(Date.now() / 1000) * 1000;
  let forceBurst = size >= 200;
  for (let i = size - 1, k = 0; i >= 0; k++) {
    let run = 1;
    if (forceBurst && i <= size * 0.6) [run, forceBurst] = [30, false];
    else if (unit(seed, k, 61) < 0.004) run = 12 + pick(seed, k, 62, 50);
    else while (run < 8 && unit(seed, k * 8 + run, 63) < 0.3) run++;
    for (let j = 0; j < run && i >= 0; j++) times[i--] = t;
    t -= 1 + Math.floor(unit(seed, k, 64) * 3000);
  }
  // Appending one event at a time places each exactly at the time given.
  const dataset = new SyntheticDataset({ size: 0, seed });
  for (let i = 0; i < size; i++) dataset.append(1, times[i]!);
  return dataset;
}

const NS_EVENT = 1;
const INTEGRATIONS = ['github-ocean', 'k8s-exporter-prod', 'pagerduty', 'jira', 'argocd', 'snyk'] as const;
const CI_CLIENTS = ['terraform', 'github-actions'] as const;
const BLUEPRINTS = ['service', 'repository', 'workload', 'environment', 'jiraIssue', 'pagerdutyService'] as const;
const ACTIONS = ['scaffold_service', 'deploy_service', 'rollback', 'create_jira_ticket', 'change_replica_count'] as const;
const SCORECARDS = ['production_readiness', 'security_maturity', 'ownership'] as const;
const NAMES = ['payment', 'checkout', 'search', 'auth', 'billing', 'catalog', 'notification', 'inventory', 'shipping', 'gateway'] as const;
const KINDS = ['service', 'api', 'worker', 'ui', 'db'] as const;
const ENVS = ['production', 'staging', 'dev', 'qa', 'eu-prod', 'us-prod'] as const;
const WEIGHTED: readonly (readonly [PortResourceType, number])[] = [
  ['entity', 0.58], ['run', 0.16], ['blueprint', 0.08], ['action', 0.06], ['scorecard', 0.05], ['webhook', 0.04], ['integration', 0.03],
];
const FAILURES: Record<string, string> = {
  entity: "Entity property 'tier' does not match the blueprint schema",
  run: 'Action run failed: the invocation method answered 502',
  blueprint: 'Blueprint has entities that do not satisfy the new schema',
  action: 'Action user inputs are invalid',
  scorecard: 'Scorecard rule references an unknown property',
  webhook: 'Webhook mapping is not valid JQ',
  integration: 'Integration configuration is invalid',
};

function weighted(r: number): PortResourceType {
  let acc = 0;
  for (const [type, weight] of WEIGHTED) if (r < (acc += weight)) return type;
  return 'entity';
}

/** Fields the filters need, cheap to compute for every index scanned, and what the change was made by and to. */
interface Facts {
  resourceType: PortResourceType;
  action: PortAction;
  status: 'SUCCESS' | 'FAILURE';
  actorKind: PortActorKind;
  userId: string | undefined;
  origin: string;
  resource: PortResource;
  context: Record<string, string>;
}

/** A resource as drawn; its name comes from its snapshot (see {@link resourceName}). */
type PortResource = Omit<PortResourceChoice, 'name'>;

const clientOf = (seed: number, name: string) => `${hex(seed, name.length * 97 + name.charCodeAt(0), 41, 32)}@clients`;
const titleOf = (id: string) => id.split(/[-_]/).map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ');

function entityId(blueprint: (typeof BLUEPRINTS)[number], x: number): string {
  const name = `${NAMES[x % NAMES.length]}-${KINDS[Math.floor(x / NAMES.length) % KINDS.length]}`;
  if (blueprint === 'environment') return ENVS[x % ENVS.length]!;
  if (blueprint === 'jiraIssue') return `PLAT-${1000 + x}`;
  return blueprint === 'workload' ? `${name}-deployment` : name;
}

/**
 * The resource a change of `type` was made to, and the context Port records for it. Each id has
 * its own draw, so drawing only the ones a type needs gives every record the same ids.
 */
function resourceOf(type: PortResourceType, seed: number, index: number): { resource: PortResource; context: Record<string, string> } {
  const blueprint = choose(BLUEPRINTS, seed, index, 30);
  const entity = entityId(blueprint, pick(seed, index, 31, 120));
  const action = () => choose(ACTIONS, seed, index, 32);
  switch (type) {
    case 'entity':
      return { resource: { id: entity, subtype: blueprint }, context: { blueprint, entity } };
    case 'blueprint':
      return { resource: { id: blueprint, subtype: null }, context: { blueprint } };
    case 'run': {
      const [runId, runAction] = [`r_${hex(seed, index, 33, 16)}`, action()];
      return { resource: { id: runId, subtype: runAction }, context: { runId, action: runAction, blueprint, entity } };
    }
    case 'action':
      return { resource: { id: action(), subtype: null }, context: { action: action(), blueprint } };
    case 'scorecard': {
      const scorecard = choose(SCORECARDS, seed, index, 34);
      return { resource: { id: scorecard, subtype: null }, context: { scorecard, blueprint } };
    }
    case 'webhook': {
      const webhookId = `wh_${hex(seed, pick(seed, index, 35, 8), 36, 16)}`;
      return { resource: { id: webhookId, subtype: null }, context: { webhookId } };
    }
    case 'integration': {
      const installationId = choose(INTEGRATIONS, seed, index, 37);
      return { resource: { id: installationId, subtype: null }, context: { installationId } };
    }
  }
}

/** The title of the resource's snapshot; runs and integrations have none. */
function resourceName(f: Facts): string | null {
  if (f.resourceType === 'run' || f.resourceType === 'integration') return null;
  return f.resourceType === 'webhook' ? 'Deploy events' : titleOf(f.resource.id);
}

const orgIdOf = (seed: number) => `org_${hex(seed, 0, 51, 16)}`;

/** The filterable facts of event `index`; resync bursts belong to one integration. */
function factsOf(dataset: SyntheticDataset, initialSize: number, index: number): Facts {
  const seed = dataset.seed;
  const at = dataset.timeOf(index);
  const first = dataset.lowerBound(at);
  const burst = index < initialSize && Math.min(dataset.lowerBound(at + 1), initialSize) - first >= 8;
  const resourceType = burst ? 'entity' : weighted(unit(seed, index, 24));
  const a = unit(seed, index, 25);
  const action = burst ? (a < 0.9 ? 'UPDATE' : 'CREATE') : resourceType === 'run' ? (a < 0.4 ? 'CREATE' : 'UPDATE') : a < 0.55 ? 'UPDATE' : a < 0.85 ? 'CREATE' : 'DELETE';
  let userId: string | undefined;
  let origin: string;
  let actorKind: PortActorKind;
  const kind = unit(seed, index, 20);
  if (burst) {
    origin = choose(INTEGRATIONS, seed, first, 26);
    [actorKind, userId] = ['client', clientOf(seed, origin)];
  } else if (kind < 0.6) {
    const person = personFor(seed, index, 21, 40, 'example.com');
    actorKind = 'person';
    userId = person.n % 7 === 3 ? `google-oauth2|1${hex(seed, person.n, 22, 20).replace(/[a-f]/g, '7')}` : `auth0|${hex(seed, person.n, 22, 24)}`;
    origin = unit(seed, index, 23) < 0.85 ? 'UI' : 'API';
  } else if (kind < 0.92) {
    const name = choose([...INTEGRATIONS, ...CI_CLIENTS], seed, index, 27);
    [actorKind, userId] = ['client', clientOf(seed, name)];
    origin = (CI_CLIENTS as readonly string[]).includes(name) ? 'API' : name;
  } else [actorKind, origin] = ['port', 'API']; // Port itself: automations and timers.

  const status = !burst && unit(seed, index, 28) < 0.05 ? 'FAILURE' : 'SUCCESS';
  return { resourceType, action, status, actorKind, userId, origin, ...resourceOf(resourceType, seed, index) };
}

/** The resource as it stood before (`v` 0) or after (`v` 1) the change. */
function snapshot(f: Facts, seed: number, index: number, atMs: number, v: 0 | 1): Record<string, unknown> {
  const c = f.context;
  const by = f.userId ?? 'port';
  const h = pick(seed, index, 40, 1000);
  const createdAt = new Date(atMs - (1 + (h % 300)) * 86_400_000).toISOString();
  const updatedAt = v === 1 ? new Date(atMs).toISOString() : new Date(atMs - (1 + (h % 20)) * 3_600_000).toISOString();
  const stamps = { createdAt, createdBy: by, updatedAt, updatedBy: by };
  switch (f.resourceType) {
    case 'entity':
      return {
        identifier: c['entity'], title: resourceName(f), icon: 'Service', blueprint: c['blueprint'], team: [choose(['platform', 'payments', 'sre', 'frontend'], seed, h, 42)],
        properties: { lifecycle: ['Production', 'Experimental', 'Deprecated'][(h + v) % 3], tier: ['Mission Critical', 'Customer Facing', 'Internal'][(h + 2 * v) % 3], language: choose(['Go', 'TypeScript', 'Python', 'Java'], seed, h, 43), url: `https://github.com/acme/${c['entity']}` },
        relations: { environment: ENVS[(h + v) % ENVS.length] }, ...stamps,
      };
    case 'blueprint':
      return { identifier: c['blueprint'], title: resourceName(f), icon: 'Blueprint', schema: { properties: { tier: { type: 'string', enum: v ? ['Mission Critical', 'Customer Facing', 'Internal'] : ['Mission Critical', 'Internal'] } }, required: [] }, relations: {}, ...stamps };
    case 'run':
      return { id: c['runId'], status: v === 0 ? 'IN_PROGRESS' : f.status, action: { identifier: c['action'] }, entity: { identifier: c['entity'] }, ...stamps };
    case 'action':
      return { identifier: c['action'], title: resourceName(f), trigger: { type: 'self-service', operation: 'DAY-2', blueprintIdentifier: c['blueprint'] }, invocationMethod: { type: v ? 'GITHUB' : 'WEBHOOK' }, ...stamps };
    case 'scorecard':
      return { identifier: c['scorecard'], title: resourceName(f), blueprint: c['blueprint'], rules: [{ identifier: 'has_readme', level: v ? 'Silver' : 'Bronze' }], ...stamps };
    case 'webhook':
      return { identifier: c['webhookId'], title: resourceName(f), enabled: v === 1, ...stamps };
    case 'integration':
      return { installationId: c['installationId'], integrationType: c['installationId']!.split('-')[0], config: { resyncIntervalMinutes: v ? 60 : 1440 }, ...stamps };
  }
}

/** The wire record of event `index`. */
export function portRecord(dataset: SyntheticDataset, initialSize: number, index: number, facts = factsOf(dataset, initialSize, index)): RawPortAuditLog {
  const seed = dataset.seed;
  const atMs = dataset.timeOf(index);
  const create = facts.action === 'CREATE';
  const record: RawPortAuditLog = {
    identifier: dataset.uuidOf(index, NS_EVENT),
    action: facts.action,
    resourceType: facts.resourceType,
    status: facts.status,
    trigger: { by: facts.userId ? { orgId: orgIdOf(seed), userId: facts.userId } : { orgId: orgIdOf(seed) }, origin: facts.origin, at: new Date(atMs).toISOString() },
    context: facts.context,
    diff: { before: create ? null : snapshot(facts, seed, index, atMs, 0), after: facts.action === 'DELETE' ? null : snapshot(facts, seed, index, atMs, 1) },
    additionalData: facts.resourceType === 'run' ? { actionType: facts.userId ? 'self-service' : 'automation' } : {},
  };
  if (facts.status === 'FAILURE') record.message = FAILURES[facts.resourceType] ?? 'Operation failed';
  return record;
}

/** Record `index` as served, with the choices it was made from: what {@link expectedPortEvent} maps. */
function generatedRecord(dataset: SyntheticDataset, initialSize: number, index: number): GeneratedPortRecord {
  const facts = factsOf(dataset, initialSize, index);
  return {
    raw: JSON.parse(JSON.stringify(portRecord(dataset, initialSize, index, facts))) as JsonObject,
    identifier: dataset.uuidOf(index, NS_EVENT),
    atMs: dataset.timeOf(index),
    resourceType: facts.resourceType,
    action: facts.action,
    status: facts.status,
    actor: { kind: facts.actorKind, userId: facts.userId ?? null, orgId: orgIdOf(dataset.seed) },
    origin: facts.origin,
    resource: { ...facts.resource, name: resourceName(facts) },
  };
}

const INCLUDES = new Set(['action', 'context', 'diff', 'identifier', 'resourceType', 'status', 'trigger', 'additionalData', 'message']);
const portError = (status: number, error: string, message: string): SimResponse => ({ status, json: { ok: false, error, message } });

/** Starts the simulator on loopback. */
export async function startPortSimulator(options: PortSimulatorOptions): Promise<RunningPortSimulator> {
  const dataset = createPortDataset({ size: options.size, seed: options.seed, ...(options.endMs !== undefined ? { endMs: options.endMs } : {}) });
  const initialSize = options.size;
  const clientId = options.clientId ?? `sim${randomBytes(12).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const lifetimeMs = (options.tokenLifetimeSeconds ?? 10_800) * 1000;
  const signingKey = randomBytes(32);
  const tokens = new Map<string, number>(); // token -> expiry, ms
  let issued: { token: string; expiresAtMs: number } | null = null;
  const quota = { windowStart: 0, used: 0 };
  let requestLog: LoggedPortRequest[] = [];

  /** Port reports its quota on every answer, the server's own 429s and 5xx included. */
  const withQuota = (response: SimResponse): SimResponse => {
    const now = Date.now();
    if (now - quota.windowStart >= 60_000) Object.assign(quota, { windowStart: now - (now % 60_000), used: 0 });
    quota.used += 1;
    const headers = { 'x-ratelimit-period': '60', 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': String(Math.max(0, 1000 - quota.used)), 'x-ratelimit-reset': String(Math.ceil((quota.windowStart + 60_000) / 1000)) };
    return { ...response, headers: { ...response.headers, ...headers } };
  };

  const issueToken = (request: SimRequest): SimResponse => {
    const body = request.body;
    const valid = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).sort().join(',') === 'clientId,clientSecret';
    const creds = valid ? (body as Record<string, unknown>) : {};
    if (!valid || typeof creds['clientId'] !== 'string' || typeof creds['clientSecret'] !== 'string') {
      return portError(422, 'invalid_request', "body must have exactly the string properties 'clientId' and 'clientSecret'");
    }
    if (creds['clientId'] !== clientId || creds['clientSecret'] !== clientSecret) return portError(401, 'unauthorized', 'Invalid client credentials');
    const now = Date.now();
    if (!issued || issued.expiresAtMs <= now) {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const payload = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: createHash('sha256').update(clientId).digest('hex').slice(0, 16), iat: Math.floor(now / 1000), exp: Math.floor((now + lifetimeMs) / 1000), jti: randomBytes(8).toString('hex') })}`;
      issued = { token: `${payload}.${createHmac('sha256', signingKey).update(payload).digest('base64url')}`, expiresAtMs: now + lifetimeMs };
      tokens.set(issued.token, issued.expiresAtMs);
    }
    const answer: RawPortTokenResponse = { ok: true, accessToken: issued.token, expiresIn: Math.max(1, Math.floor((issued.expiresAtMs - now) / 1000)), tokenType: 'Bearer' };
    return { status: 200, json: answer };
  };

  const list = (request: SimRequest): SimResponse => {
    const q = request.query;
    requestLog.push({ path: request.path, query: new URLSearchParams(q) });
    if (requestLog.length > PORT_REQUEST_LOG_SIZE) requestLog.shift();
    const limitText = q.get('limit');
    const limit = limitText === null ? 10_000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) return portError(422, 'invalid_request', 'querystring/limit must be an integer between 1 and 100000');
    const dates = ['from', 'to'].map((key) => (q.get(key) === null ? null : Date.parse(q.get(key)!)));
    if (dates.some((value) => value !== null && Number.isNaN(value))) return portError(422, 'invalid_request', 'querystring/from and to must be date-time strings');
    const resources = q.getAll('resources');
    const includes = q.getAll('includes');
    const action = q.get('action');
    const status = q.get('status');
    if (resources.some((value) => !(PORT_RESOURCE_TYPES as readonly string[]).includes(value)) || includes.some((value) => !INCLUDES.has(value)) ||
      (action !== null && !(PORT_ACTIONS as readonly string[]).includes(action)) || (status !== null && status !== 'SUCCESS' && status !== 'FAILURE')) {
      return portError(422, 'invalid_request', 'querystring has a value outside its enum');
    }
    const origins = q.getAll('origin');
    const byContext: [string, string | null][] = [['entity', q.get('entity')], ['blueprint', q.get('blueprint')], ['runId', q.get('run_id')], ['webhookId', q.get('webhookId')], ['installationId', q.get('InstallationId')]];
    const matches = (f: Facts) =>
      (resources.length === 0 || resources.includes(f.resourceType)) && (action === null || f.action === action) && (status === null || f.status === status) &&
      (origins.length === 0 || origins.includes(f.origin)) && byContext.every(([key, value]) => value === null || f.context[key] === value);

    const [from, to] = dates;
    const identifier = q.get('identifier');
    let lo = from === null || from === undefined ? 0 : dataset.lowerBound(from);
    let hi = to === null || to === undefined ? dataset.size - 1 : dataset.lowerBound(to + 1) - 1;
    if (identifier !== null) {
      const index = dataset.indexOfUuid(identifier, NS_EVENT);
      [lo, hi] = index === null ? [1, 0] : [Math.max(lo, index), Math.min(hi, index)];
    }
    const audits: RawPortAuditLog[] = [];
    for (let i = hi; i >= lo && audits.length < limit; i--) {
      const facts = factsOf(dataset, initialSize, i);
      if (!matches(facts)) continue;
      const record = portRecord(dataset, initialSize, i, facts);
      audits.push(includes.length === 0 ? record : (Object.fromEntries(Object.entries(record).filter(([key]) => includes.includes(key))) as unknown as RawPortAuditLog));
    }
    const body: RawPortAuditLogList = { ok: true, audits };
    return { status: 200, json: body };
  };

  const server = await startSimulatorServer({
    ...commonServerOptions(options),
    errorBody: (status, message) => ({ ok: false, error: status === 429 ? 'rate_limit_exceeded' : status === 404 ? 'not_found' : 'internal_error', message }),
    authorize: (request, route) => {
      if (route.method === 'POST') return null;
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const expiresAtMs = token === undefined ? undefined : tokens.get(token);
      return expiresAtMs !== undefined && expiresAtMs > Date.now() ? null : portError(401, 'unauthorized', 'Invalid or expired access token');
    },
    append: (count) => dataset.append(count),
    decorate: withQuota,
    routes: [
      { method: 'POST', pattern: '/v1/auth/access_token', handle: (request) => issueToken(request) },
      { method: 'GET', pattern: '/v1/audit-log', list: true, handle: (request) => list(request) },
    ],
  });

  return {
    baseUrl: server.baseUrl,
    credentials: { clientId, clientSecret },
    control: server.control,
    dataset,
    stop: server.stop,
    takeRequests() {
      const taken = requestLog;
      requestLog = [];
      return taken;
    },
    expectedEvents(sourceId: string): AuditEventModel[] {
      const events: AuditEventModel[] = [];
      for (let i = 0; i < dataset.size; i++) events.push(expectedPortEvent(generatedRecord(dataset, initialSize, i), sourceId));
      return events;
    },
  };
}
