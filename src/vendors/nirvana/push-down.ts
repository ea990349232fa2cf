import { queryMatcher } from '../../sources/query-matcher';
import type { ActorType, AuditEventModel } from '../../models/audit-event';
import { onlyIpv4Address, onlyValue, type FilterField, type SourceQuery } from '../../sources/data-source';

/** Filter parameters of `GET /v1/audit_logs`, as sent. */
export type NirvanaFilterParams = Readonly<Record<string, string | number>>;

/** The {@link SourceQuery} fields that {@link nirvanaPushDown} can send upstream (each in some cases). */
export const NIRVANA_NATIVE_FILTERS: readonly FilterField[] = ['window', 'actions', 'actorIds', 'actorTypes', 'targetIds', 'targetTypes', 'clientIps', 'failed'];

/** What a {@link SourceQuery} becomes upstream. */
export interface NirvanaPushDown {
  /** The filter parameters to send; empty when nothing can be applied upstream. */
  params: NirvanaFilterParams;
  /** True when every field the query sets is in `params`: an upstream that applies them all lists exactly the query's events. */
  complete: boolean;
  /** Whether an event is one an upstream applying `params` may list (a check that it does apply them). */
  admits(event: AuditEventModel): boolean;
}

/** The wire `actor_type` of each actor type a Nirvana record maps to (normalize.ts); others are UNKNOWN. */
const WIRE_ACTOR_TYPES: Partial<Record<ActorType, string>> = { USER: 'user', API_KEY: 'api_key' };

/**
 * The filters Nirvana's current list API applies exactly as the gateway does, and only those:
 * - the window: `created_at_min` = `fromMs` and `created_at_max` = `toMs`, both inclusive
 *   upstream. The inclusive upper bound on the exclusive `toMs` lets through events of that very
 *   millisecond, which the gateway drops again; a millisecond less would lose events stamped
 *   with sub-millisecond precision just before `toMs`;
 * - one action, unless the gateway could have made it up (a record without `action` is named
 *   `METHOD path` or `unknown`, which the upstream's `action` would not match; see
 *   `mayBeNamedByGateway`);
 * - one actor id, target id or target type (compared exactly on both sides);
 * - one actor type, when the query wants exactly one of USER and API_KEY and not UNKNOWN (a
 *   record of another wire type is UNKNOWN, which `actor_type` cannot ask for);
 * - one IPv4 client address (the only address text with a single form);
 * - `failed`, which normalize.ts derives as `status_code >= 400`: true is `status_code_min=400`,
 *   false `status_code_max=399` (records without a status are neither, upstream or here).
 */
export function nirvanaPushDown(query: SourceQuery): NirvanaPushDown {
  const params: Record<string, string | number> = {};
  const pushed = new Set<keyof SourceQuery>(['fromMs', 'toMs']);
  const put = (field: keyof SourceQuery, param: string, value: string | number | null) => {
    if (value === null) return;
    params[param] = value;
    pushed.add(field);
  };
  put('fromMs', 'created_at_min', query.fromMs === null ? null : new Date(query.fromMs).toISOString());
  put('toMs', 'created_at_max', query.toMs === null ? null : new Date(query.toMs).toISOString());
  put('actions', 'action', pushableAction(query.actions));
  put('actorIds', 'actor_id', onlyValue(query.actorIds));
  put('actorTypes', 'actor_type', wireActorType(query.actorTypes));
  put('targetIds', 'target_id', onlyValue(query.targetIds));
  put('targetTypes', 'target_type', onlyValue(query.targetTypes));
  put('clientIps', 'client_ip', onlyIpv4Address(query));
  if (query.failed !== null) put('failed', query.failed ? 'status_code_min' : 'status_code_max', query.failed ? 400 : 399);

  const fields = Object.keys(query) as Array<keyof SourceQuery>;
  const complete = fields.every((field) => query[field] === null || pushed.has(field));
  const pushedQuery = Object.fromEntries(fields.map((field) => [field, pushed.has(field) ? query[field] : null])) as unknown as SourceQuery;
  // Upstream, `created_at_max` admits the millisecond of `toMs` itself.
  const admits = queryMatcher({ ...pushedQuery, toMs: query.toMs === null ? null : query.toMs + 1 });
  return { params, complete, admits };
}

function pushableAction(actions: readonly string[] | null): string | null {
  const action = onlyValue(actions);
  return action === null || mayBeNamedByGateway(action) ? null : action;
}

/**
 * True for a name normalize.ts may have made up for a record without `action`: `unknown`, or
 * `<METHOD> <path>`, whose text up to the first blank is upper case. Any other name, blanks
 * included (`Assertion Request:Denied`), can only be a recorded `action`, which the upstream
 * compares as the gateway does.
 */
function mayBeNamedByGateway(action: string): boolean {
  if (action === 'unknown') return true;
  const blank = action.search(/\s/);
  if (blank < 0) return false;
  const head = action.slice(0, blank);
  return head === head.toUpperCase();
}

function wireActorType(actorTypes: readonly ActorType[] | null): string | null {
  if (actorTypes === null || actorTypes.includes('UNKNOWN')) return null;
  const wire = actorTypes.flatMap((type) => WIRE_ACTOR_TYPES[type] ?? []);
  return wire.length === 1 ? wire[0]! : null;
}

/**
 * For each filter parameter the gateway sends, a value no entry can have: an upstream that
 * applies the parameter answers it with no entries, one that ignores it with its newest ones.
 * `actor_type` has no such value (every entry is a user or an API key), so it is never proven.
 */
export const UNMATCHABLE_VALUES: NirvanaFilterParams = {
  created_at_min: '9999-12-31T23:59:59Z',
  created_at_max: '1970-01-01T00:00:00Z',
  action: 'audit-gateway.no-such-action',
  // The nil UUID is never assigned.
  actor_id: '00000000-0000-0000-0000-000000000000',
  target_id: '00000000-0000-0000-0000-000000000000',
  target_type: 'audit-gateway-no-such-type',
  // The unspecified address is never a client's.
  client_ip: '0.0.0.0',
  // HTTP statuses have three digits.
  status_code_min: 600,
  status_code_max: 99,
};
