import { createHash } from 'node:crypto';
import { badUserInput } from '../errors';
import type { ActorType, AuditEventModel, EventCategory } from '../models/audit-event';
import type { RecordedField, SourceQuery } from '../sources/data-source';
import { actorKey, decodeGlobalId } from './global-id';
import { canonicalIpOrRange } from '../sources/ip-ranges';
import { queryMatcher } from '../sources/query-matcher';

/** `AuditEventFilter` as the resolvers receive it (structurally the generated input type). */
export interface EventFilterInput {
  sources?: readonly string[] | null;
  actions?: readonly string[] | null;
  categories?: readonly EventCategory[] | null;
  actorIds?: readonly string[] | null;
  actorEmails?: readonly string[] | null;
  actorTypes?: readonly ActorType[] | null;
  targetIds?: readonly string[] | null;
  targetTypes?: readonly string[] | null;
  from?: Date | null;
  to?: Date | null;
  text?: string | null;
  clientIps?: readonly string[] | null;
  sessionIds?: readonly string[] | null;
  requestIds?: readonly string[] | null;
  traceIds?: readonly string[] | null;
  userAgents?: readonly string[] | null;
  failed?: boolean | null;
  repositoryIds?: readonly string[] | null;
  sourceEventIds?: readonly string[] | null;
}

/** A source as the filter sees it: its config id and what its records can carry. */
export interface FilterableSource {
  id: string;
  recordedFields: readonly RecordedField[];
}

/** A source left out because a filter asks about something its records never carry. */
export interface NotApplicableSource {
  sourceId: string;
  /** The filter fields it cannot match, as paths (`filter.actorEmails`). */
  fields: string[];
}

/** The part of an event each such filter asks about. */
const FIELD_RECORDS: ReadonlyArray<[keyof EventFilterInput, RecordedField]> = [
  ['actorEmails', 'actorEmail'],
  ['clientIps', 'clientIp'],
  ['userAgents', 'userAgent'],
  ['sessionIds', 'sessionId'],
  ['requestIds', 'requestId'],
  ['traceIds', 'traceId'],
  ['failed', 'failed'],
  ['repositoryIds', 'repository'],
];

/** A validated filter, split into what each source is asked and what the gateway checks. */
export interface EventSelection {
  /** Sources to read, sorted. */
  sourceIds: string[];
  /** Sources named (or implied) by the filter that cannot match it, e.g. an actor id of another source. */
  skippedSourceIds: string[];
  /** Sources whose records never carry what the filter asks about: answered at once, with a warning. */
  notApplicable: NotApplicableSource[];
  /** The query each read source is given. */
  queries: Map<string, SourceQuery>;
  /** The whole filter, checked by the gateway on every event whatever the source pushed down. */
  matches(event: AuditEventModel): boolean;
  /** Stable hash of the normalised filter; cursors carry it to refuse reuse with another filter. */
  fingerprint: string;
  /**
   * True when the filter asks something no `SourceQuery` carries (categories, target ids, actors
   * without a vendor id), which only `matches` applies: a vendor's count of the queries is then
   * not the filter's count. Absent = false.
   */
  gatewayOnly?: boolean;
}

const MAX_LIST = 100;
const MAX_TEXT = 256;
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Validates `input` against the configured sources and splits it per source. Throws
 * BAD_USER_INPUT naming the field for anything a user can fix.
 */
export function selectEvents(input: EventFilterInput | null | undefined, sources: readonly FilterableSource[], order: string): EventSelection {
  const filter = input ?? {};
  const known = new Map(sources.map((source) => [source.id, source]));

  let named: string[];
  if (filter.sources == null) named = [...known.keys()];
  else {
    if (filter.sources.length === 0) throw badUserInput('filter.sources: give at least one source, or omit the field for all', 'INVALID_FILTER', 'filter.sources');
    for (const id of filter.sources) {
      if (!known.has(id)) throw badUserInput(`filter.sources: unknown source '${clip(id)}'`, 'UNKNOWN_SOURCE', 'filter.sources');
    }
    named = [...new Set(filter.sources)];
  }

  const actions = textList(filter.actions, 'filter.actions');
  const targetTypes = textList(filter.targetTypes, 'filter.targetTypes');
  const actorEmails = lowerCased(textList(filter.actorEmails, 'filter.actorEmails'));
  const categories = enumList(filter.categories, 'filter.categories');
  const actorTypes = enumList(filter.actorTypes, 'filter.actorTypes');
  const text = filter.text == null ? null : checkText(filter.text, 'filter.text').toLowerCase();
  const clientIps = ipList(filter.clientIps, 'filter.clientIps');
  const sessionIds = textList(filter.sessionIds, 'filter.sessionIds');
  const requestIds = textList(filter.requestIds, 'filter.requestIds');
  const traceIds = textList(filter.traceIds, 'filter.traceIds');
  const userAgents = lowerCased(textList(filter.userAgents, 'filter.userAgents'));
  const failed = filter.failed ?? null;
  const repositoryIds = textList(filter.repositoryIds, 'filter.repositoryIds');
  const sourceEventIds = textList(filter.sourceEventIds, 'filter.sourceEventIds');

  const fromMs = filter.from ? filter.from.getTime() : null;
  const toMs = filter.to ? filter.to.getTime() : null;
  if (fromMs !== null && toMs !== null && fromMs >= toMs) {
    throw badUserInput('filter: from must be before to', 'INVALID_FILTER', 'filter.from');
  }

  // Actor and target ids are global: each belongs to one source, so they also narrow the sources.
  const actorsBySource = groupIds(filter.actorIds, 'filter.actorIds', (id) => {
    const decoded = decodeGlobalId(id);
    if (decoded.type !== 'Actor') throw badUserInput(`filter.actorIds: '${clip(id)}' is not an Actor id`, 'INVALID_ID', 'filter.actorIds');
    return [decoded.sourceId, decoded.actorKey];
  });
  const targetsBySource = groupIds(filter.targetIds, 'filter.targetIds', (id) => {
    const decoded = decodeGlobalId(id);
    if (decoded.type !== 'Target') throw badUserInput(`filter.targetIds: '${clip(id)}' is not a Target id`, 'INVALID_ID', 'filter.targetIds');
    return [decoded.sourceId, `${decoded.targetType}\u0000${decoded.sourceTargetId}`];
  });

  const asked = FIELD_RECORDS.filter(([field]) => filter[field] !== null && filter[field] !== undefined);
  const sourceIds: string[] = [];
  const skippedSourceIds: string[] = [];
  const notApplicable: NotApplicableSource[] = [];
  for (const id of named.sort()) {
    const canMatch = (!actorsBySource || actorsBySource.has(id)) && (!targetsBySource || targetsBySource.has(id));
    if (!canMatch) {
      skippedSourceIds.push(id);
      continue;
    }
    const recorded = known.get(id)!.recordedFields;
    const missing = asked.filter(([, part]) => !recorded.includes(part)).map(([field]) => `filter.${field}`);
    if (missing.length > 0) notApplicable.push({ sourceId: id, fields: missing });
    else sourceIds.push(id);
  }

  // What every selected source is asked, before its own actor and target ids.
  const shared: SourceQuery = {
    fromMs,
    toMs,
    actions,
    actorIds: null,
    actorEmails,
    actorTypes,
    targetIds: null,
    targetTypes,
    text,
    clientIps,
    sessionIds,
    requestIds,
    traceIds,
    userAgents,
    failed,
    repositoryIds,
    sourceEventIds,
  };
  const queries = new Map<string, SourceQuery>();
  for (const id of sourceIds) {
    const actorKeys = actorsBySource?.get(id);
    const targetKeys = targetsBySource?.get(id);
    queries.set(id, {
      ...shared,
      // Only actors with a vendor id can be asked for upstream; `~TYPE` keys are matched here.
      actorIds: actorKeys && [...actorKeys].every((key) => !key.startsWith('~')) ? [...actorKeys] : null,
      targetIds: targetKeys ? [...new Set([...targetKeys].map((key) => key.split('\u0000')[1]!))] : null,
    });
  }

  const matchesShared = queryMatcher(shared);
  const categorySet = categories && new Set(categories);
  const matches = (event: AuditEventModel): boolean => {
    if (!matchesShared(event)) return false;
    if (categorySet && !categorySet.has(event.category)) return false;
    if (actorsBySource && !actorsBySource.get(event.sourceId)?.has(actorKey(event.actor.sourceActorId, event.actor.type))) return false;
    if (targetsBySource) {
      const target = event.target;
      if (!target || !targetsBySource.get(event.sourceId)?.has(`${target.type}\u0000${target.sourceTargetId}`)) return false;
    }
    return true;
  };

  const sorted = <T extends string>(values: readonly T[] | null) => values && [...values].sort();
  const canonical = JSON.stringify({
    s: sourceIds,
    a: sorted(actions),
    c: sorted(categories),
    ai: actorsBySource && [...actorsBySource].map(([s, keys]) => [s, [...keys].sort()]).sort(),
    ae: sorted(actorEmails),
    at: sorted(actorTypes),
    ti: targetsBySource && [...targetsBySource].map(([s, keys]) => [s, [...keys].sort()]).sort(),
    tt: sorted(targetTypes),
    f: fromMs,
    t: toMs,
    x: text,
    ip: sorted(clientIps),
    se: sorted(sessionIds),
    rq: sorted(requestIds),
    tr: sorted(traceIds),
    ua: sorted(userAgents),
    fa: failed,
    re: sorted(repositoryIds),
    ei: sorted(sourceEventIds),
    o: order,
  });
  const fingerprint = createHash('sha256').update(canonical).digest('base64url').slice(0, 16);

  const gatewayOnly = categorySet !== null || targetsBySource !== null || (actorsBySource !== null && [...actorsBySource.values()].some((keys) => [...keys].some((key) => key.startsWith('~'))));
  return { sourceIds, skippedSourceIds, notApplicable, queries, matches, fingerprint, gatewayOnly };
}

function textList(list: readonly string[] | null | undefined, field: string): string[] | null {
  if (list == null) return null;
  if (list.length === 0) throw badUserInput(`${field}: give at least one value, or omit the field`, 'INVALID_FILTER', field);
  if (list.length > MAX_LIST) throw badUserInput(`${field}: at most ${MAX_LIST} values`, 'INVALID_FILTER', field);
  return [...new Set(list.map((value, index) => checkText(value, `${field}[${index}]`)))];
}

function lowerCased(list: string[] | null): string[] | null {
  return list && [...new Set(list.map((value) => value.toLowerCase()))];
}

/** Addresses and CIDR ranges in canonical form; a value that is neither names its index. */
function ipList(list: readonly string[] | null | undefined, field: string): string[] | null {
  const values = textList(list, field);
  if (values === null) return null;
  return [
    ...new Set(
      values.map((value) => {
        const canonical = canonicalIpOrRange(value);
        if (canonical === null) {
          const at = `${field}[${list!.indexOf(value)}]`;
          throw badUserInput(`${at}: '${clip(value)}' is not an IPv4 or IPv6 address or a CIDR range (e.g. 192.0.2.0/24, 2001:db8::/32)`, 'INVALID_FILTER', at);
        }
        return canonical;
      }),
    ),
  ];
}

function enumList<T extends string>(list: readonly T[] | null | undefined, field: string): T[] | null {
  if (list == null) return null;
  if (list.length === 0) throw badUserInput(`${field}: give at least one value, or omit the field`, 'INVALID_FILTER', field);
  return [...new Set(list)];
}

function checkText(value: string, field: string): string {
  if (value.length === 0 || value.length > MAX_TEXT || !PRINTABLE.test(value)) {
    throw badUserInput(`${field}: 1 to ${MAX_TEXT} printable characters`, 'INVALID_FILTER', field);
  }
  return value;
}

function groupIds(
  ids: readonly string[] | null | undefined,
  field: string,
  decode: (id: string) => [sourceId: string, key: string],
): Map<string, Set<string>> | null {
  if (ids == null) return null;
  if (ids.length === 0) throw badUserInput(`${field}: give at least one id, or omit the field`, 'INVALID_FILTER', field);
  if (ids.length > MAX_LIST) throw badUserInput(`${field}: at most ${MAX_LIST} ids`, 'INVALID_FILTER', field);
  const bySource = new Map<string, Set<string>>();
  for (const id of ids) {
    const [sourceId, key] = decode(id);
    let keys = bySource.get(sourceId);
    if (!keys) bySource.set(sourceId, (keys = new Set()));
    keys.add(key);
  }
  return bySource;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
