import { randomBytes } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event';
import { SyntheticDataset } from '../../simulation/dataset';
import { clientIpFor, personFor, userAgentFor } from '../../simulation/people';
import { choose, hex, mix, pick, unit } from '../../simulation/random';
import { commonServerOptions, startSimulatorServer, type SimRequest, type SimResponse } from '../../simulation/server';
import type { RunningSimulator, SimulatorStartOptions } from '../../simulation/vendor-simulator';
import { expectedAgilicusEvent, type GeneratedAgilicusRecord } from './simulator-expected';
import type { RawAgilicusAudit, RawAgilicusAuthAudit } from './wire-types';

/**
 * A stand-in for Agilicus' AuditsApi (`GET /v1/audits`, `GET /v1/auth_audits`; see wire-types.ts).
 *
 * Choices the vendor leaves open, made once here:
 * - one data set, split by index: even indexes are `/v1/audits` records, odd ones
 *   `/v1/auth_audits` records, so both streams interleave in time;
 * - some 30-second spans are bursts whose records all carry the span's first millisecond (a bulk
 *   import, a login storm), so one timestamp often holds more records than a small `limit`;
 * - now and then a record is an exact copy of the one two indexes before (same kind, same time),
 *   as a retried write would leave it;
 * - order: newest first (`oldestFirst` flips it for tests); `limit` default 500, capped at 5,000, 400 when not a positive integer;
 * - `dt_from` inclusive, `dt_to` exclusive: ISO-8601 (UTC when no zone), `now`, `today`,
 *   `yesterday`, `now-<n><unit>` (s, min, hour, day, week; also `+`);
 * - errors: `ErrorMessage` `{error_code, error_message}`; 401 for a wrong token, 403 for an
 *   `org_id` the token may not read;
 * - filters: every parameter of the newest SDK, each an exact text match on the record field it
 *   names (`session_id` on `session`, `source_ip` on `source_ip`, `trace_id` on `trace_id` …), as
 *   the datasource assumes when it pushes one down; an empty value is no filter.
 */
export interface AgilicusSimulatorOptions extends SimulatorStartOptions {
  /** The access token the simulator accepts; default a random JWT-shaped one. */
  token?: string;
  /** Time of the newest event, ms. */
  endMs?: number;
  /** Share of events sharing the previous event's millisecond (see SyntheticDataset); default 0.35. */
  tieRate?: number;
  /** Share of 30-second spans that are bursts on one millisecond; default 0.08. */
  burstRate?: number;
  /** Serve the oldest records of a window first (tests of order independence); default false. */
  oldestFirst?: boolean;
  knobs?: Parameters<typeof startSimulatorServer>[0]['knobs'];
}

const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 5000;
const BURST_SPAN_MS = 30_000;

/** Salts, so that ids of different things drawn for one index differ. */
const NS = { org: 1, user: 2, target: 3, token: 4, session: 5, request: 6, parent: 7, upstream: 8 } as const;

const VERBS = ['CREATE', 'UPDATE', 'DELETE', 'GET'] as const;
/** `[api_name, target_resource_type, has a parent collection]`. */
const RESOURCES = [
  ['users', 'user', false], ['users', 'group', false], ['permissions', 'role', true], ['applications', 'application', false],
  ['applications', 'application_service', true], ['connectors', 'agent_connector', false], ['tokens', 'token', false],
  ['tokens', 'token', false], ['issuers', 'issuer_client', true], ['resources', 'desktop_resource', false],
  ['files', 'file', false], ['certificates', 'certificate', false], ['audits', 'audit_destination', false],
] as const;
/** Pipeline steps and the results each can end in. */
const STEPS = [
  ['Authentication Request', 'Login', ['InProgress', 'Success', 'Failure']],
  ['Identity Provider Authentication', 'Upstream', ['Authenticate', 'Success', 'Failure']],
  ['Identity Provider Callback', 'Callback', ['Success', 'Failure', 'Timeout']],
  ['Assertion Request', 'Assertion', ['Success', 'Denied']],
  ['Policy Evaluation', 'Policy', ['Success', 'Denied', 'DoMfa']],
  ['MFA Challenge', 'Mfa', ['DoMfa', 'Success', 'Failure', 'Timeout']],
  ['Token', 'Token', ['CodeIssued', 'Success', 'Create', 'SessionExpired']],
] as const;
const CLIENTS = [['admin-portal', 'admin'], ['profile', 'profile'], ['wiki-client', 'Wiki'], ['jira-sso', 'Jira'], ['ssh-gateway', 'ssh-bastion']] as const;
const IDPS = ['google', 'azure-ad', 'okta', 'local'] as const;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const AUDIT_FILTERS = ['user_id', 'org_id', 'action', 'target_id', 'token_id', 'api_name', 'target_resource_type'] as const;
const AUTH_FILTERS: Record<string, keyof RawAgilicusAuthAudit> = {
  user_id: 'user_id', org_id: 'org_id', session_id: 'session', trace_id: 'trace_id', upstream_user_id: 'upstream_user_id',
  upstream_idp: 'upstream_idp', login_org_id: 'login_org_id', source_ip: 'source_ip', client_id: 'client_id', event: 'event',
  stage: 'stage', request_id: 'request_id', result: 'result', event_name: 'event_name',
};

/** A 22-character Agilicus-style id for thing `n` of kind `namespace`. */
function agilicusId(seed: number, n: number, namespace: number): string {
  let id = '';
  // Five base-62 digits from each 32-bit draw (62^5 < 2^32).
  for (let k = 0; id.length < 22; k++) {
    let v = mix(seed, n, namespace * 64 + k);
    for (let d = 0; d < 5 && id.length < 22; d++, v = Math.floor(v / 62)) id += ALPHABET[v % 62];
  }
  return id;
}

/** Record times and kinds over a {@link SyntheticDataset}. Times stay sorted by index, so windows are binary searches. */
export class AgilicusRecords {
  readonly orgId: string;
  readonly subOrgId: string;
  private readonly burstRate: number;

  /** Records appended later (new activity) keep their own time: bursts shape the generated set only. */
  private readonly generated: number;

  constructor(readonly dataset: SyntheticDataset, burstRate = 0.08) {
    this.burstRate = burstRate;
    this.generated = dataset.size;
    this.orgId = agilicusId(dataset.seed, 0, NS.org);
    this.subOrgId = agilicusId(dataset.seed, 1, NS.org);
  }

  kindOf(index: number): 'audit' | 'auth' {
    return index % 2 === 0 ? 'audit' : 'auth';
  }

  /** The record time: the data set's, pulled to the start of a burst span (monotone, so order holds). */
  timeOf(index: number): number {
    const t = this.dataset.timeOf(index);
    if (index >= this.generated) return t;
    const span = Math.floor(t / BURST_SPAN_MS);
    return this.isBurst(span) ? span * BURST_SPAN_MS : t;
  }

  /** First index whose record time is >= `ms`; record times never decrease with the index. */
  lowerBound(ms: number): number {
    let lo = 0;
    let hi = this.dataset.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeOf(mid) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The wire record of event `index`. */
  record(index: number): RawAgilicusAudit | RawAgilicusAuthAudit {
    return this.recordWithChoices(index).record;
  }

  /**
   * The wire record of event `index`, with what the generator chose for it besides its fields:
   * its kind, its millisecond, and whether it is an exact copy of the same kind's previous
   * record at the same time (a retried write), and which copy.
   */
  recordWithChoices(index: number): GeneratedAgilicusRecord {
    let source = index;
    while (source >= 2 && this.timeOf(source - 2) === this.timeOf(source) && unit(this.dataset.seed, source, 40) < 0.12) source -= 2;
    const occurredAtMs = this.timeOf(index);
    const time = new Date(occurredAtMs).toISOString();
    // Each record between the original and this one, two indexes apart, repeats it too: the distance counts the copies before this one.
    const copy = (index - source) / 2;
    return this.kindOf(index) === 'audit'
      ? { kind: 'audit', occurredAtMs, copy, record: this.audit(source, time) }
      : { kind: 'auth', occurredAtMs, copy, record: this.auth(source, time) };
  }

  private isBurst(span: number): boolean {
    return unit(this.dataset.seed, span, 31) < this.burstRate;
  }

  private audit(i: number, time: string): RawAgilicusAudit {
    const seed = this.dataset.seed;
    const [apiName, resourceType, nested] = choose(RESOURCES, seed, i, 10);
    const verb = choose(VERBS, seed, i, 11);
    const person = personFor(seed, i, 13, 40, 'example.com').n;
    const system = unit(seed, i, 12) < 0.05;
    const legacy = unit(seed, i, 14) < 0.1;
    const record: RawAgilicusAudit = {};
    if (!system) record.user_id = agilicusId(seed, person, NS.user);
    record.org_id = this.orgId;
    record.time = time;
    record.action = verb;
    record.source_ip = clientIpFor(seed, i, 16);
    // A collection read has no single target; a created token is audited under its jti.
    if (!(verb === 'GET' && unit(seed, i, 17) < 0.5)) {
      record.target_id = resourceType === 'token' && verb === 'CREATE' ? agilicusId(seed, i, NS.token) : agilicusId(seed, pick(seed, i, 18, 300), NS.target);
    }
    if (!system) record.token_id = agilicusId(seed, person * 7 + pick(seed, i, 19, 3), NS.token);
    record.trace_id = hex(seed, i, 20, 32);
    if (legacy) return record;
    record.target_resource_type = resourceType;
    record.api_name = apiName;
    if (!system) record.session = agilicusId(seed, person * 5 + pick(seed, i, 21, 2), NS.session);
    if (nested) record.parent_id = agilicusId(seed, pick(seed, i, 22, 20), NS.parent);
    if (resourceType === 'application_service' && unit(seed, i, 23) < 0.5) record.secondary_id = agilicusId(seed, pick(seed, i, 24, 50), NS.target);
    return record;
  }

  private auth(i: number, time: string): RawAgilicusAuthAudit {
    const seed = this.dataset.seed;
    const [eventName, stage, results] = choose(STEPS, seed, i, 30);
    const result = choose(results, seed, i, 31);
    const [clientId, application] = choose(CLIENTS, seed, i, 32);
    const person = personFor(seed, i, 33, 40, 'example.com').n;
    const idp = IDPS[person % IDPS.length]!;
    const subOrg = unit(seed, i, 34) < 0.3;
    // Before the IdP answers, the pipeline knows no local user.
    const anonymous = (eventName === 'Authentication Request' && result !== 'Success') || unit(seed, i, 35) < 0.05;
    const record: RawAgilicusAuthAudit = {};
    if (!anonymous) record.user_id = agilicusId(seed, person, NS.user);
    if (!anonymous || eventName !== 'Authentication Request') record.upstream_user_id = String(100_000_000_000 + mix(seed, person, NS.upstream));
    record.org_id = this.orgId;
    record.org_name = 'example-corp';
    record.time = time;
    record.event_name = eventName;
    record.result = result;
    // Older pipeline versions still filled the deprecated pair.
    if (unit(seed, i, 36) < 0.25) {
      record.stage = stage;
      record.event = result;
    }
    record.source_ip = clientIpFor(seed, i, 37);
    if (eventName === 'Token' && (result === 'Success' || result === 'CodeIssued')) record.token_id = agilicusId(seed, i, NS.token);
    record.trace_id = hex(seed, i, 38, 32);
    record.session = agilicusId(seed, person * 5 + pick(seed, i, 39, 2), NS.session);
    record.issuer = 'https://auth.example-corp.agilicus.cloud';
    record.client_id = clientId;
    record.application_name = application;
    record.login_org_id = subOrg ? this.subOrgId : this.orgId;
    record.login_org_name = subOrg ? 'example-corp-labs' : 'example-corp';
    record.upstream_idp = idp;
    record.user_agent = userAgentFor(seed, i, 41);
    record.request_id = agilicusId(seed, Math.floor(i / 6), NS.request);
    return record;
  }
}

const UNITS_MS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000, w: 604_800_000, week: 604_800_000 };

/** A `dt_from` / `dt_to` value in ms: null for empty, NaN when unreadable. */
export function parseWhen(text: string | null, nowMs: number): number | null {
  const value = (text ?? '').trim().toLowerCase();
  if (value === '') return null;
  const startOfDay = Math.floor(nowMs / 86_400_000) * 86_400_000;
  if (value === 'now') return nowMs;
  if (value === 'today') return startOfDay;
  if (value === 'yesterday') return startOfDay - 86_400_000;
  // A `+` that was not percent-encoded arrives as a space.
  const relative = /^now\s*([+\- ])\s*(\d+)\s*([a-z]+?)s?$/.exec(value);
  if (relative) {
    const unitMs = UNITS_MS[relative[3]!];
    if (unitMs === undefined) return Number.NaN;
    return nowMs + (relative[1] === '-' ? -1 : 1) * Number(relative[2]) * unitMs;
  }
  const iso = /^\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
  if (!iso) return Number.NaN;
  return Date.parse(value.includes('t') && !iso[1] ? `${value}z`.toUpperCase() : value.toUpperCase());
}

function error(status: number, code: string, message: string): SimResponse {
  return { status, json: { error_code: code, error_message: message } };
}

/** Starts the simulator on loopback. */
export async function startAgilicusSimulator(options: AgilicusSimulatorOptions): Promise<RunningSimulator> {
  const dataset = new SyntheticDataset({
    size: options.size,
    seed: options.seed,
    ...(options.endMs !== undefined ? { endMs: options.endMs } : {}),
    ...(options.tieRate !== undefined ? { tieRate: options.tieRate } : {}),
  });
  const records = new AgilicusRecords(dataset, options.burstRate);
  const token = options.token ?? fakeJwt(records.orgId);
  const readableOrgs = new Set([records.orgId, records.subOrgId]);

  const list = (kind: 'audit' | 'auth', listField: string) => (request: SimRequest): SimResponse => {
    const limitText = request.query.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : /^\d+$/.test(limitText) ? Math.min(MAX_LIMIT, Number(limitText)) : 0;
    if (limit < 1) return error(400, 'INVALID_PARAMETER', 'limit must be a positive integer');
    const now = Date.now();
    const from = parseWhen(request.query.get('dt_from'), now);
    const to = parseWhen(request.query.get('dt_to'), now);
    if (Number.isNaN(from) || Number.isNaN(to)) return error(400, 'INVALID_PARAMETER', 'dt_from and dt_to take ISO-8601 or forms like now-1day');
    const orgId = request.query.get('org_id');
    if (orgId && !readableOrgs.has(orgId)) return error(403, 'FORBIDDEN', 'the token may not read this organisation');

    const fields: [string, string][] = [];
    const names = kind === 'audit' ? Object.fromEntries(AUDIT_FILTERS.map((name) => [name, name])) : AUTH_FILTERS;
    for (const [param, field] of Object.entries(names)) {
      const value = request.query.get(param);
      if (value) fields.push([field, value]);
    }
    const lo = from === null ? 0 : records.lowerBound(from);
    const hi = to === null ? dataset.size : records.lowerBound(to);
    const found: (RawAgilicusAudit | RawAgilicusAuthAudit)[] = [];
    // Step over the other endpoint's indexes, from the newest end unless told otherwise.
    const step = options.oldestFirst ? 2 : -2;
    let i = options.oldestFirst ? lo : hi - 1;
    if (i >= 0 && records.kindOf(i) !== kind) i += step / 2;
    for (; i >= lo && i < hi && found.length < limit; i += step) {
      const record = records.record(i) as Record<string, string | undefined>;
      if (fields.every(([field, value]) => record[field] === value)) found.push(record);
    }
    return { status: 200, json: { limit, [listField]: found } };
  };

  const server = await startSimulatorServer({
    ...commonServerOptions(options),
    errorBody: (status, message) => ({ error_code: status === 429 ? 'TOO_MANY_REQUESTS' : status >= 500 ? 'UNAVAILABLE' : 'ERROR', error_message: message }),
    authorize: (request) =>
      request.headers.authorization === `Bearer ${token}` ? null : error(401, 'UNAUTHORIZED', 'a valid bearer token from your issuer is required'),
    append: (count) => dataset.append(count),
    routes: [
      { method: 'GET', pattern: '/v1/audits', list: true, handle: list('audit', 'audits') },
      { method: 'GET', pattern: '/v1/auth_audits', list: true, handle: list('auth', 'auth_audits') },
    ],
  });

  return {
    baseUrl: server.baseUrl,
    credentials: { token, orgId: records.orgId },
    control: server.control,
    dataset,
    stop: server.stop,
    expectedEvents(sourceId: string): AuditEventModel[] {
      return Array.from({ length: dataset.size }, (_, i) => expectedAgilicusEvent(sourceId, records.recordWithChoices(i)));
    },
  };
}

/** A JWT-shaped token; only its exact text matters to the simulator. */
function fakeJwt(orgId: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { iss: 'https://auth.example-corp.agilicus.cloud', sub: 'simulated-user', org: orgId, aud: 'urn:agilicus:api', exp: 4_102_444_800 };
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part(payload)}.${randomBytes(32).toString('base64url')}`;
}
