import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event';
import { SyntheticDataset } from '../../simulation/dataset';
import { clientIpFor, personFor, personOf, userAgentFor } from '../../simulation/people';
import { choose, mix, pick, unit } from '../../simulation/random';
import { commonServerOptions, startSimulatorServer, type SimRequest, type SimResponse } from '../../simulation/server';
import type { RunningSimulator, SimulatorStartOptions } from '../../simulation/vendor-simulator';
import type { JsonObject } from '../../models/json';
import { expectedAsanaEvent, readAsanaChoices, type AsanaContextChoice, type AsanaEventChoices } from './simulator-expected';
import { ASANA_ACTOR_TYPES, type RawAsanaActor, type RawAsanaActorType, type RawAsanaAuditLogEvent, type RawAsanaContext, type RawAsanaErrorBody, type RawAsanaResource } from './wire-types';

/**
 * A stand-in for Asana's Audit Log API, as docs/vendors/asana.md describes it. Serves
 * `GET /api/1.0/workspaces/{workspace_gid}/audit_log_events`.
 *
 * Choices the vendor leaves open, made once here:
 * - order: oldest first only (`created_at`, ties in capture order); no other order exists;
 * - `limit`: absent -> 1000 (the endpoint text); given -> an integer 1–100 (the parameter schema),
 *   else 400;
 * - `offset`: JWT-shaped, HMAC-signed with a per-process key (unforgeable), bound to the filters
 *   it was issued for, valid for `offsetTtlMs` (default 1 hour); otherwise 400 naming the reason;
 * - stream semantics: `next_page` is null only when nothing matches at all; after that it always
 *   comes back, and an empty `data` means "no more for now"; events appended later are returned
 *   from the last offset;
 * - retention: events more than `retentionDays` (default 90) before the data set's newest event
 *   are gone. It is measured on the data set's own clock, not the wall clock, so that a fixed
 *   data set (e.g. the contract's, ending 2026-11-01) keeps working whatever the date;
 * - wrong token: 401 `Not Authorized`; a numeric workspace gid that is not ours: 403; anything
 *   else in that segment: 404; 429 and 5xx come from the knobs and `inject`, in Asana's bodies;
 * - context extras where Asana would record them: `rule_name` only on events Asana's automation
 *   performed (`asana` actor, tasks), `on_behalf_of_user_id` only with `asana_support` actors,
 *   `oauth_app_name` only with `api_authentication_method` `oauth`.
 */
export interface AsanaSimulatorOptions extends SimulatorStartOptions {
  /** The service account token accepted; default a random one. */
  token?: string;
  /** The organization's gid; default derived from the data set's seed number. */
  workspaceGid?: string;
  /** Time of the newest event, ms. */
  endMs?: number;
  /** Share of events sharing the previous one's millisecond, and mean gap, ms (see `SyntheticDataset`). */
  tieRate?: number;
  meanGapMs?: number;
  /** Days of retention before the newest event; null keeps everything. Default 90. */
  retentionDays?: number | null;
  /** Lifetime of an offset token, ms; default 3,600,000. */
  offsetTtlMs?: number;
  /** Origin written into `next_page.uri`; default the simulator's own. Tests set a foreign one. */
  nextPageOrigin?: string;
  knobs?: Parameters<typeof startSimulatorServer>[0]['knobs'];
  /**
   * Replaces the record of event `index` as served and in `expectedEvents` (whose ground truth
   * then leaves out what cannot be placed), to test the record policy over real paging. The server
   * still places and filters the event by its generated values, as Asana does by its own.
   */
  alterRecord?: (record: RawAsanaAuditLogEvent, index: number) => unknown;
}

const HELP = 'For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors';
const RATE_LIMITED = "You've made too many requests and hit a rate limit. Please retry after the given amount of time.";
const DAY_MS = 86_400_000;
const DOMAIN = 'example.com';

type ResourceKind = 'user' | 'task' | 'project' | 'team' | 'portfolio' | 'workspace' | 'app';

interface EventSpec {
  type: string;
  category: string;
  resource: ResourceKind;
  /** Actor kinds that plausibly cause it; a `user` when it is among them, most of the time. */
  actors: readonly RawAsanaActorType[];
  weight: number;
  /** Old and new values of the changed setting, where the event reports a change. */
  change?: readonly [string, string];
}

const SPECS: readonly EventSpec[] = [
  { type: 'user_login_succeeded', category: 'logins', resource: 'user', actors: ['user'], weight: 30 },
  { type: 'user_login_failed', category: 'logins', resource: 'user', actors: ['user', 'anonymous'], weight: 8 },
  { type: 'user_logged_out', category: 'logins', resource: 'user', actors: ['user'], weight: 10 },
  { type: 'user_invited', category: 'user_updates', resource: 'user', actors: ['user', 'external_administrator'], weight: 4 },
  { type: 'user_deprovisioned', category: 'user_updates', resource: 'user', actors: ['user', 'asana', 'external_administrator'], weight: 2 },
  { type: 'user_reprovisioned', category: 'user_updates', resource: 'user', actors: ['user'], weight: 1 },
  { type: 'user_password_changed', category: 'user_updates', resource: 'user', actors: ['user'], weight: 2 },
  { type: 'user_password_reset', category: 'user_updates', resource: 'user', actors: ['user', 'asana_support'], weight: 2 },
  { type: 'user_two_factor_auth_enabled', category: 'user_updates', resource: 'user', actors: ['user'], weight: 2 },
  { type: 'workspace_export_started', category: 'content_export', resource: 'workspace', actors: ['user'], weight: 1 },
  { type: 'task_deleted', category: 'deletion', resource: 'task', actors: ['user', 'asana'], weight: 12 },
  { type: 'project_deleted', category: 'deletion', resource: 'project', actors: ['user'], weight: 3 },
  { type: 'team_deleted', category: 'deletion', resource: 'team', actors: ['user', 'external_administrator'], weight: 1 },
  { type: 'portfolio_deleted', category: 'deletion', resource: 'portfolio', actors: ['user'], weight: 1 },
  { type: 'app_added_to_workspace', category: 'apps', resource: 'app', actors: ['user'], weight: 2 },
  { type: 'project_privacy_settings_changed', category: 'permissions', resource: 'project', actors: ['user', 'asana'], weight: 4, change: ['public_to_workspace', 'private'] },
  { type: 'team_member_role_changed', category: 'roles', resource: 'user', actors: ['user', 'external_administrator'], weight: 2, change: ['member', 'admin'] },
  { type: 'workspace_session_duration_changed', category: 'admin_settings', resource: 'workspace', actors: ['user', 'asana_support'], weight: 2, change: ['30_days', '12_hours'] },
];
/** Spec indexes repeated by weight, for a weighted draw with one `pick`. */
const WEIGHTED = SPECS.flatMap((spec, i) => Array.from({ length: spec.weight }, () => i));

const NAMES: Record<Exclude<ResourceKind, 'user' | 'workspace'>, readonly string[]> = {
  task: ['Draft Q3 launch checklist', 'Review vendor contract', 'Update onboarding docs', 'Fix login page copy', 'Plan offsite agenda'],
  project: ['Website redesign', 'Q3 launch', 'Security review', 'Hiring pipeline'],
  team: ['Marketing', 'Engineering', 'Legal', 'Finance'],
  portfolio: ['2026 initiatives', 'Customer programs'],
  app: ['Slack', 'Zoom', 'Google Drive', 'Salesforce'],
};
/** Namespaces of gids, so that users, tasks, events … of one number never collide. */
const GID_BASE: Record<ResourceKind | 'event' | 'external' | 'service', number> = {
  user: 1_204_000_000_000_000, task: 1_205_000_000_000_000, project: 1_206_000_000_000_000, team: 1_207_000_000_000_000,
  portfolio: 1_207_500_000_000_000, app: 1_203_500_000_000_000, workspace: 1_200_000_000_000_000, event: 1_208_000_000_000_000,
  external: 1_209_000_000_000_000, service: 1_209_500_000_000_000,
};
const SERVICE_ACCOUNTS = ['Splunk audit export', 'SCIM provisioning'] as const;
/** Automation rules of the example organization; the first is the spec's own example. */
const RULE_NAMES = ['When Task is added to this project', 'Delete completed subtasks after 30 days', 'When task is moved to Archive, delete it'] as const;

/** The fields a filter looks at, computed without building the whole record. */
interface Shape {
  spec: EventSpec;
  actorType: RawAsanaActorType;
  /** Person number for users and external administrators; service account number for service accounts. */
  actorN: number;
  serviceAccount: boolean;
  actorGid: string | undefined;
  resourceN: number;
  resourceGid: string;
}

function shapeOf(seed: number, index: number, workspaceGid: string): Shape {
  const spec = SPECS[WEIGHTED[pick(seed, index, 20, WEIGHTED.length)]!]!;
  const userFirst = spec.actors.includes('user') && unit(seed, index, 21) < 0.7;
  const actorType = userFirst ? 'user' : choose(spec.actors, seed, index, 22);
  const serviceAccount = actorType === 'user' && spec.category !== 'logins' && unit(seed, index, 23) < 0.12;
  const actorN = serviceAccount ? pick(seed, index, 24, SERVICE_ACCOUNTS.length) : personFor(seed, index, 25, 40, DOMAIN).n;
  let actorGid: string | undefined;
  if (actorType === 'user') actorGid = String((serviceAccount ? GID_BASE.service : GID_BASE.user) + actorN);
  if (actorType === 'external_administrator') actorGid = String(GID_BASE.external + (actorN % 3));
  const resourceN = spec.resource === 'user' ? personFor(seed, index, 26, 60, DOMAIN).n : pick(seed, index, 27, spec.resource === 'task' ? 400 : 40);
  const resourceGid = spec.resource === 'workspace' ? workspaceGid : String(GID_BASE[spec.resource] + resourceN);
  return { spec, actorType, actorN, serviceAccount, actorGid, resourceN, resourceGid };
}

function actorOf(shape: Shape): RawAsanaActor {
  const { actorType, actorN, actorGid } = shape;
  if (actorType === 'user' && shape.serviceAccount) {
    const name = SERVICE_ACCOUNTS[actorN]!;
    return { actor_type: 'user', gid: actorGid!, name, email: `${name.toLowerCase().replace(/\W+/g, '-')}@serviceaccount.${DOMAIN}` };
  }
  if (actorType === 'user') {
    const person = personOf(actorN, DOMAIN);
    return { actor_type: 'user', gid: actorGid!, name: person.name, email: person.email };
  }
  if (actorType === 'external_administrator') {
    const person = personOf(100 + (actorN % 3), 'partner.example');
    return { actor_type: actorType, gid: actorGid!, name: person.name, email: person.email };
  }
  return { actor_type: actorType };
}

function resourceOf(shape: Shape, seed: number, workspaceGid: string): RawAsanaResource {
  const kind = shape.spec.resource;
  if (kind === 'user') {
    const person = personOf(shape.resourceN, DOMAIN);
    return { resource_type: 'user', gid: shape.resourceGid, name: person.name, email: person.email };
  }
  if (kind === 'workspace') return { resource_type: 'workspace', gid: workspaceGid, name: 'Example Corp' };
  const resource: RawAsanaResource = { resource_type: kind, gid: shape.resourceGid, name: NAMES[kind][shape.resourceN % NAMES[kind].length]! };
  if (kind === 'task' && unit(seed, shape.resourceN, 28) < 0.15) resource.resource_subtype = 'milestone';
  return resource;
}

function contextOf(shape: Shape, seed: number, index: number): RawAsanaContext {
  const client = { client_ip_address: clientIpFor(seed, index, 30), user_agent: userAgentFor(seed, index, 31) };
  switch (shape.actorType) {
    case 'asana':
      // Asana also acts on its own (deprovisioning, privacy defaults): only a customer's rule has a name.
      return shape.spec.resource === 'task' && unit(seed, index, 41) < 0.8
        ? { context_type: 'asana', rule_name: choose(RULE_NAMES, seed, index, 42) }
        : { context_type: 'asana' };
    case 'asana_support':
      // Support mostly acts on a user's request, sometimes on its own (an incident fix).
      return unit(seed, index, 43) < 0.85
        ? { context_type: 'asana_support', on_behalf_of_user_id: GID_BASE.user + personFor(seed, index, 32, 40, DOMAIN).n }
        : { context_type: 'asana_support' };
    case 'anonymous':
    case 'external_administrator':
      return { context_type: 'web', ...client };
    default:
      break;
  }
  if (shape.serviceAccount) return { context_type: 'api', api_authentication_method: 'service_account', ...client };
  const contextType = choose(['web', 'web', 'web', 'desktop', 'mobile', 'api'] as const, seed, index, 33);
  if (contextType !== 'api') return { context_type: contextType, ...client };
  const oauth = unit(seed, index, 34) < 0.5;
  return oauth
    ? { context_type: 'api', api_authentication_method: 'oauth', oauth_app_name: choose(['Zapier', 'Unito', 'Slack'] as const, seed, index, 35), ...client }
    : { context_type: 'api', api_authentication_method: 'personal_access_token', ...client };
}

/** The wire record of event `index` of `dataset`. */
export function asanaRecord(dataset: SyntheticDataset, index: number, workspaceGid: string): RawAsanaAuditLogEvent {
  return generatedEvent(dataset, index, workspaceGid).record;
}

/** Event `index` of `dataset`: its wire record and the choices it was made from. */
function generatedEvent(dataset: SyntheticDataset, index: number, workspaceGid: string): { record: RawAsanaAuditLogEvent; choices: AsanaEventChoices } {
  const seed = dataset.seed;
  const shape = shapeOf(seed, index, workspaceGid);
  const [actor, resource, context] = [actorOf(shape), resourceOf(shape, seed, workspaceGid), contextOf(shape, seed, index)];
  const record: RawAsanaAuditLogEvent = {
    gid: String(GID_BASE.event + index * 97 + pick(seed, index, 36, 97)),
    created_at: new Date(dataset.timeOf(index)).toISOString(),
    event_type: shape.spec.type,
    event_category: shape.spec.category,
    actor,
    resource,
    context,
  };
  withDetails(record, shape, index, seed);
  const raw = JSON.parse(JSON.stringify(record)) as JsonObject;
  return {
    record,
    choices: {
      gid: record.gid!,
      atMs: dataset.timeOf(index),
      eventType: shape.spec.type,
      category: shape.spec.category,
      actor: { kind: shape.actorType, gid: shape.actorGid ?? null, name: actor.name ?? null, email: actor.email ?? null, serviceAccount: shape.serviceAccount },
      resource: { gid: shape.resourceGid, type: shape.spec.resource, name: resource.name ?? null, subtype: resource.resource_subtype ?? null, email: resource.email ?? null },
      context: contextChoice(context),
      details: raw['details'] ?? null,
      raw,
    },
  };
}

/** What a generated context says. */
function contextChoice(context: RawAsanaContext): AsanaContextChoice {
  const requester = context.on_behalf_of_user_id;
  return {
    type: context.context_type ?? null,
    clientIp: context.client_ip_address ?? null,
    userAgent: context.user_agent ?? null,
    application: context.oauth_app_name ?? null,
    automation: context.rule_name ?? null,
    requester: requester == null ? null : String(requester),
  };
}

/** The old and new values of a change, or a login's (empty) SAML response, where the event has them. */
function withDetails(record: RawAsanaAuditLogEvent, shape: Shape, index: number, seed: number): void {
  if (shape.spec.change) {
    const [before, after] = unit(seed, index, 37) < 0.5 ? shape.spec.change : ([shape.spec.change[1], shape.spec.change[0]] as const);
    record.details = { old_value: before, new_value: after };
    if (shape.spec.category === 'roles') record.details['group'] = { gid: String(GID_BASE.team + (index % 4)), name: NAMES.team[index % 4]!, resource_type: 'team' };
  } else if (shape.spec.category === 'logins') {
    record.details = { saml_response: null };
  }
}

/** Position of an offset: the next index to scan, when it was issued, and the filters it belongs to. */
interface OffsetPayload {
  p: number;
  i: number;
  h: string;
}

const FILTER_PARAMS = ['start_at', 'end_at', 'event_type', 'actor_type', 'actor_gid', 'resource_gid'] as const;

function errorBody(message: string): RawAsanaErrorBody {
  return { errors: [{ message, help: HELP }] };
}

function badRequest(message: string): SimResponse {
  return { status: 400, json: errorBody(message) };
}

/** Starts the simulator on loopback; its `baseUrl` ends in `/api/1.0` like Asana's. */
export async function startAsanaSimulator(options: AsanaSimulatorOptions): Promise<RunningSimulator> {
  const dataset = new SyntheticDataset({
    size: options.size,
    seed: options.seed,
    ...(options.endMs !== undefined ? { endMs: options.endMs } : {}),
    ...(options.tieRate !== undefined ? { tieRate: options.tieRate } : {}),
    ...(options.meanGapMs !== undefined ? { meanGapMs: options.meanGapMs } : {}),
  });
  const token = options.token ?? `2/${GID_BASE.service}/${GID_BASE.service + 1}:${randomBytes(16).toString('hex')}`;
  const workspaceGid = options.workspaceGid ?? String(GID_BASE.workspace + (options.seed % 1_000_000));
  const retentionMs = options.retentionDays === null ? null : (options.retentionDays ?? 90) * DAY_MS;
  const offsetTtlMs = options.offsetTtlMs ?? 3_600_000;
  const key = randomBytes(32);
  let ownOrigin = 'http://127.0.0.1';
  const alter = options.alterRecord ?? ((record: RawAsanaAuditLogEvent) => record);
  const served = (index: number): unknown => alter(asanaRecord(dataset, index, workspaceGid), index);
  /** What event `index` says as served: the generator's choices, or a record a test altered read back. */
  const servedChoices = (index: number): AsanaEventChoices | null => {
    const generated = generatedEvent(dataset, index, workspaceGid);
    const record = alter(generated.record, index);
    return record === generated.record ? generated.choices : readAsanaChoices(record);
  };
  let errors = 0;

  /** First index still retained: measured from the newest event, the data set's own "now". */
  const firstRetained = (): number =>
    retentionMs === null || dataset.size === 0 ? 0 : dataset.lowerBound(dataset.timeOf(dataset.size - 1) - retentionMs);

  const sign = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  const encodeOffset = (payload: OffsetPayload): string => {
    const head = `eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${head}.${sign(head)}`;
  };
  const decodeOffset = (text: string): OffsetPayload | null => {
    const cut = text.lastIndexOf('.');
    const mac = Buffer.from(text.slice(cut + 1));
    const expected = Buffer.from(sign(text.slice(0, cut)));
    if (cut < 0 || mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    const payload = JSON.parse(Buffer.from(text.slice(0, cut).split('.')[1] ?? '', 'base64url').toString('utf8')) as OffsetPayload;
    return Number.isSafeInteger(payload.p) && Number.isSafeInteger(payload.i) && typeof payload.h === 'string' ? payload : null;
  };

  const list = (request: SimRequest, params: Record<string, string>): SimResponse => {
    const gid = params['workspace_gid'] ?? '';
    if (gid !== workspaceGid) {
      return /^\d+$/.test(gid)
        ? { status: 403, json: errorBody('Forbidden') }
        : { status: 404, json: errorBody(`workspace: Not a recognized ID: ${gid.slice(0, 40)}`) };
    }
    const q = request.query;
    const times: Record<'start_at' | 'end_at', number | null> = { start_at: null, end_at: null };
    for (const name of ['start_at', 'end_at'] as const) {
      const text = q.get(name);
      if (text === null) continue;
      const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
      if (Number.isNaN(ms)) return badRequest(`${name}: Invalid date-time, expected ISO 8601 such as 2021-01-01T00:00:00.000Z: ${text.slice(0, 40)}`);
      times[name] = ms;
    }
    const actorType = q.get('actor_type');
    const actorGid = q.get('actor_gid');
    if (actorType !== null && !(ASANA_ACTOR_TYPES as readonly string[]).includes(actorType)) {
      return badRequest(`actor_type: Must be one of ${ASANA_ACTOR_TYPES.join(', ')}`);
    }
    if (actorType !== null && actorGid !== null) return badRequest('actor_type: Must not be given together with actor_gid');
    const limitText = q.get('limit');
    const limit = limitText === null ? 1000 : Number(limitText);
    if (limitText !== null && (!/^\d+$/.test(limitText) || limit < 1 || limit > 100)) return badRequest('limit: Must be an integer between 1 and 100');

    const filterHash = createHash('sha256').update(JSON.stringify([gid, ...FILTER_PARAMS.map((name) => q.get(name))])).digest('base64url').slice(0, 16);
    const offsetText = q.get('offset');
    let position = 0;
    if (offsetText !== null) {
      let payload: OffsetPayload | null = null;
      try {
        payload = decodeOffset(offsetText);
      } catch {
        payload = null;
      }
      if (!payload) return badRequest('offset: Invalid offset token');
      if (Date.now() - payload.i > offsetTtlMs) return badRequest('offset: Your pagination token has expired. Restart pagination without an offset.');
      if (payload.h !== filterHash) return badRequest('offset: The offset token was issued for different query parameters');
      position = payload.p;
    }

    const end = times.end_at === null ? dataset.size : dataset.lowerBound(times.end_at);
    let next = Math.max(position, firstRetained(), times.start_at === null ? 0 : dataset.lowerBound(times.start_at));
    const eventType = q.get('event_type');
    const resourceGid = q.get('resource_gid');
    const filtered = eventType !== null || actorType !== null || actorGid !== null || resourceGid !== null;
    const data: unknown[] = [];
    for (; next < end && data.length < limit; next++) {
      if (filtered) {
        const shape = shapeOf(dataset.seed, next, workspaceGid);
        if (eventType !== null && shape.spec.type !== eventType) continue;
        if (actorType !== null && shape.actorType !== actorType) continue;
        if (actorGid !== null && shape.actorGid !== actorGid) continue;
        if (resourceGid !== null && shape.resourceGid !== resourceGid) continue;
      }
      data.push(served(next));
    }
    // Null only when nothing matches at all; an offset exists only because something did.
    if (offsetText === null && data.length === 0) return { status: 200, json: { data, next_page: null } };
    const offset = encodeOffset({ p: next, i: Date.now(), h: filterHash });
    const query = new URLSearchParams();
    for (const name of [...FILTER_PARAMS, 'limit'] as const) {
      const value = q.get(name);
      if (value !== null) query.set(name, value);
    }
    query.set('offset', offset);
    const path = `/workspaces/${gid}/audit_log_events?${query.toString()}`;
    return { status: 200, json: { data, next_page: { offset, path, uri: `${options.nextPageOrigin ?? ownOrigin}/api/1.0${path}` } } };
  };

  const server = await startSimulatorServer({
    ...commonServerOptions(options),
    errorBody: (status, message) => {
      if (status === 429) return errorBody(RATE_LIMITED);
      if (status < 500) return errorBody(message);
      // Asana's 500s carry a phrase to quote to support; any five words will do here.
      const n = mix(options.seed, errors++, 40);
      const phrase = `${2 + (n % 20)} ${choose(['sad', 'sleepy', 'brave', 'quiet'] as const, n, 0, 1)} ${choose(['squid', 'otters', 'llamas', 'finches'] as const, n, 0, 2)} ${choose(['snuggle', 'wander', 'hum', 'juggle'] as const, n, 0, 3)} softly`;
      return { errors: [{ message: 'Server Error', help: HELP, phrase }] };
    },
    authorize: (request) =>
      request.headers.authorization === `Bearer ${token}` ? null : { status: 401, json: errorBody('Not Authorized') },
    append: (count) => dataset.append(count),
    routes: [{ method: 'GET', pattern: '/api/1.0/workspaces/:workspace_gid/audit_log_events', list: true, handle: list }],
  });
  ownOrigin = server.baseUrl;

  return {
    baseUrl: `${server.baseUrl}/api/1.0`,
    credentials: { token, workspaceGid },
    control: server.control,
    dataset,
    stop: server.stop,
    expectedEvents(sourceId: string): AuditEventModel[] {
      const events: AuditEventModel[] = [];
      for (let i = firstRetained(); i < dataset.size; i++) {
        const choices = servedChoices(i);
        if (choices) events.push(expectedAsanaEvent(choices, sourceId));
      }
      return events;
    },
  };
}
