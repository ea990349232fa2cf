import type { SyntheticDataset } from '../../simulation/dataset';
import type { NirvanaEntry } from './simulator-data';

/** The list filters of the current API (`GET /v1/audit_logs`), in the order they are documented. */
export const NIRVANA_FILTER_PARAMS = [
  'action',
  'actor_id',
  'actor_type',
  'client_ip',
  'created_at_min',
  'created_at_max',
  'method',
  'path',
  'status_code_min',
  'status_code_max',
  'target_id',
  'target_type',
] as const;

type FilterParam = (typeof NIRVANA_FILTER_PARAMS)[number];

/** The filters of one list request, parsed; null = not given. */
export interface NirvanaListFilters {
  /** Inclusive bounds in whole milliseconds, rounded inwards from the instants given. */
  minMs: number | null;
  maxMs: number | null;
  action: string | null;
  actorId: string | null;
  actorType: 'user' | 'api_key' | null;
  clientIp: string | null;
  method: string | null;
  /** Lower-cased: `path` matches a case-insensitive substring. */
  pathPart: string | null;
  statusMin: number | null;
  statusMax: number | null;
  targetId: string | null;
  targetType: string | null;
  /** Canonical text of the filters given ('' for none): a cursor is bound to it. */
  key: string;
}

/** No filters: what the legacy API applies whatever it is sent. */
export const NO_FILTERS: NirvanaListFilters = {
  minMs: null,
  maxMs: null,
  action: null,
  actorId: null,
  actorType: null,
  clientIp: null,
  method: null,
  pathPart: null,
  statusMin: null,
  statusMax: null,
  targetId: null,
  targetType: null,
  key: '',
};

/** A reason a request's filters cannot be read, for a 400 `{message}`. */
export class MalformedFilter extends Error {}

/** The first filter parameter `query` carries, or null. */
export function firstFilterParam(query: URLSearchParams): FilterParam | null {
  return NIRVANA_FILTER_PARAMS.find((name) => query.has(name)) ?? null;
}

/** The filters of a list request; throws {@link MalformedFilter} naming the parameter at fault. */
export function parseListFilters(query: URLSearchParams): NirvanaListFilters {
  const text = (name: FilterParam): string | null => {
    const values = query.getAll(name);
    if (values.length > 1) throw new MalformedFilter(`${name} may be given once`);
    return values[0] ?? null;
  };
  const actorType = text('actor_type');
  if (actorType !== null && actorType !== 'user' && actorType !== 'api_key') throw new MalformedFilter('actor_type must be user or api_key');
  const min = instantParam('created_at_min', text('created_at_min'));
  const max = instantParam('created_at_max', text('created_at_max'));
  const filters: Omit<NirvanaListFilters, 'key'> = {
    // An instant finer than a millisecond excludes the millisecond it falls in from below.
    minMs: min && (min.subMillisecond ? min.ms + 1 : min.ms),
    maxMs: max && max.ms,
    action: text('action'),
    actorId: text('actor_id'),
    actorType,
    clientIp: text('client_ip'),
    method: text('method'),
    pathPart: text('path')?.toLowerCase() ?? null,
    statusMin: integerParam('status_code_min', text('status_code_min')),
    statusMax: integerParam('status_code_max', text('status_code_max')),
    targetId: text('target_id'),
    targetType: text('target_type'),
  };
  const given = Object.entries(filters).filter(([, value]) => value !== null);
  return { ...filters, key: given.length === 0 ? '' : JSON.stringify(given) };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time as whole ms (rounded down), and whether digits beyond the ms were cut. */
function instantParam(name: FilterParam, value: string | null): { ms: number; subMillisecond: boolean } | null {
  if (value === null) return null;
  const match = RFC3339.exec(value);
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match ?? [];
  // Date.parse rolls 30 February over to March; RFC 3339 calls it malformed.
  const validDay = match !== null && Number(day) >= 1 && Number(day) <= new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  const ms = validDay
    ? Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.padEnd(3, '0').slice(0, 3)}${zone!.toUpperCase()}`)
    : Number.NaN;
  if (Number.isNaN(ms) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) {
    throw new MalformedFilter(`${name} must be an RFC 3339 date-time`);
  }
  return { ms, subMillisecond: /[1-9]/.test(fraction.slice(3)) };
}

function integerParam(name: FilterParam, value: string | null): number | null {
  if (value === null) return null;
  if (!/^-?\d{1,9}$/.test(value)) throw new MalformedFilter(`${name} must be an integer`);
  return Number(value);
}

/**
 * A test of one entry against every filter but the time window (which selects a range of indexes
 * instead), cheapest comparisons first; null when only the window filters.
 */
export function entryMatcher(filters: NirvanaListFilters): ((entry: NirvanaEntry) => boolean) | null {
  const tests: Array<(entry: NirvanaEntry) => boolean> = [];
  const { action, actorId, actorType, clientIp, method, pathPart, statusMin, statusMax, targetId, targetType } = filters;
  if (actorType !== null) tests.push((entry) => entry.actorType === actorType);
  if (action !== null) tests.push((entry) => entry.action === action);
  if (method !== null) tests.push((entry) => entry.method === method);
  if (statusMin !== null) tests.push((entry) => entry.statusCode >= statusMin);
  if (statusMax !== null) tests.push((entry) => entry.statusCode <= statusMax);
  if (targetType !== null) tests.push((entry) => entry.target?.type === targetType);
  if (targetId !== null) tests.push((entry) => entry.target?.id === targetId);
  if (actorId !== null) tests.push((entry) => entry.actorId === actorId);
  if (pathPart !== null) tests.push((entry) => entry.path.toLowerCase().includes(pathPart));
  if (clientIp !== null) tests.push((entry) => entry.clientIp === clientIp);
  return tests.length === 0 ? null : (entry) => tests.every((test) => test(entry));
}

/** Indexes `lo..hi` (inclusive; empty when hi < lo) of the entries inside the filters' time window. */
export function windowRange(dataset: SyntheticDataset, filters: NirvanaListFilters): { lo: number; hi: number } {
  // Indexes ascend with time, so a window is one run of indexes, found by binary search.
  const lo = filters.minMs === null ? 0 : dataset.lowerBound(filters.minMs);
  const hi = (filters.maxMs === null ? dataset.size : dataset.lowerBound(filters.maxMs + 1)) - 1;
  return { lo, hi };
}
