import { createHash } from 'node:crypto';
import { badUserInput } from '../errors';
import type { ActorType, AuditEventModel, EventCategory } from '../models/audit-event';
import type { SourceQuery } from '../sources/data-source';
import { actorKey, decodeGlobalId } from './global-id';

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
}

/** A validated filter, split into what each source is asked and what the gateway checks. */
export interface EventSelection {
  /** Sources to read, sorted. */
  sourceIds: string[];
  /** Sources named (or implied) by the filter that cannot match it, e.g. an actor id of another source. */
  skippedSourceIds: string[];
  /** The query each read source is given. */
  queries: Map<string, SourceQuery>;
  /** The whole filter, checked by the gateway on every event whatever the source pushed down. */
  matches(event: AuditEventModel): boolean;
  /** Stable hash of the normalised filter; cursors carry it to refuse reuse with another filter. */
  fingerprint: string;
}

const MAX_LIST = 100;
const MAX_TEXT = 256;
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Validates `input` against the configured sources and splits it per source. Throws
 * BAD_USER_INPUT naming the field for anything a user can fix.
 */
export function selectEvents(input: EventFilterInput | null | undefined, knownSourceIds: readonly string[], order: string): EventSelection {
  const filter = input ?? {};
  const known = new Set(knownSourceIds);

  let named: string[];
  if (filter.sources == null) named = [...knownSourceIds];
  else {
    if (filter.sources.length === 0) throw badUserInput('filter.sources: give at least one source, or omit the field for all', 'INVALID_FILTER', 'filter.sources');
    for (const id of filter.sources) {
      if (!known.has(id)) throw badUserInput(`filter.sources: unknown source '${clip(id)}'`, 'UNKNOWN_SOURCE', 'filter.sources');
    }
    named = [...new Set(filter.sources)];
  }

  const actions = textList(filter.actions, 'filter.actions');
  const targetTypes = textList(filter.targetTypes, 'filter.targetTypes');
  const actorEmails = textList(filter.actorEmails, 'filter.actorEmails')?.map((email) => email.toLowerCase()) ?? null;
  const categories = enumList(filter.categories, 'filter.categories');
  const actorTypes = enumList(filter.actorTypes, 'filter.actorTypes');
  const text = filter.text == null ? null : checkText(filter.text, 'filter.text').toLowerCase();

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

  const sourceIds: string[] = [];
  const skippedSourceIds: string[] = [];
  for (const id of named.sort()) {
    const canMatch = (!actorsBySource || actorsBySource.has(id)) && (!targetsBySource || targetsBySource.has(id));
    (canMatch ? sourceIds : skippedSourceIds).push(id);
  }

  const queries = new Map<string, SourceQuery>();
  for (const id of sourceIds) {
    const actorKeys = actorsBySource?.get(id);
    const targetKeys = targetsBySource?.get(id);
    queries.set(id, {
      fromMs,
      toMs,
      actions,
      // Only actors with a vendor id can be asked for upstream; `~TYPE` keys are matched here.
      actorIds: actorKeys && [...actorKeys].every((key) => !key.startsWith('~')) ? [...actorKeys] : null,
      actorEmails,
      actorTypes,
      targetIds: targetKeys ? [...new Set([...targetKeys].map((key) => key.split('\u0000')[1]!))] : null,
      targetTypes,
      text,
    });
  }

  const actionSet = actions && new Set(actions);
  const categorySet = categories && new Set(categories);
  const emailSet = actorEmails && new Set(actorEmails);
  const actorTypeSet = actorTypes && new Set(actorTypes);
  const targetTypeSet = targetTypes && new Set(targetTypes);

  const matches = (event: AuditEventModel): boolean => {
    if (fromMs !== null && event.occurredAtMs < fromMs) return false;
    if (toMs !== null && event.occurredAtMs >= toMs) return false;
    if (actionSet && !actionSet.has(event.action)) return false;
    if (categorySet && !categorySet.has(event.category)) return false;
    if (actorTypeSet && !actorTypeSet.has(event.actor.type)) return false;
    if (emailSet && !(event.actor.email && emailSet.has(event.actor.email.toLowerCase()))) return false;
    if (actorsBySource && !actorsBySource.get(event.sourceId)?.has(actorKey(event.actor.sourceActorId, event.actor.type))) return false;
    if (targetTypeSet && !(event.target && targetTypeSet.has(event.target.type))) return false;
    if (targetsBySource) {
      const target = event.target;
      if (!target || !targetsBySource.get(event.sourceId)?.has(`${target.type}\u0000${target.sourceTargetId}`)) return false;
    }
    if (text !== null && !searchableText(event).includes(text)) return false;
    return true;
  };

  const canonical = JSON.stringify({
    s: sourceIds,
    a: actions && [...actions].sort(),
    c: categories && [...categories].sort(),
    ai: actorsBySource && [...actorsBySource].map(([s, keys]) => [s, [...keys].sort()]).sort(),
    ae: actorEmails && [...actorEmails].sort(),
    at: actorTypes && [...actorTypes].sort(),
    ti: targetsBySource && [...targetsBySource].map(([s, keys]) => [s, [...keys].sort()]).sort(),
    tt: targetTypes && [...targetTypes].sort(),
    f: fromMs,
    t: toMs,
    x: text,
    o: order,
  });
  const fingerprint = createHash('sha256').update(canonical).digest('base64url').slice(0, 16);

  return { sourceIds, skippedSourceIds, queries, matches, fingerprint };
}

/** The text `filter.text` is matched against, lower-cased. */
export function searchableText(event: AuditEventModel): string {
  const parts = [
    event.action,
    event.actor.name,
    event.actor.email,
    event.actor.sourceActorId,
    event.target?.name,
    event.target?.sourceTargetId,
    event.target?.type,
    event.details === null ? null : JSON.stringify(event.details),
  ];
  return parts.filter((part): part is string => typeof part === 'string').join('\n').toLowerCase();
}

function textList(list: readonly string[] | null | undefined, field: string): string[] | null {
  if (list == null) return null;
  if (list.length === 0) throw badUserInput(`${field}: give at least one value, or omit the field`, 'INVALID_FILTER', field);
  if (list.length > MAX_LIST) throw badUserInput(`${field}: at most ${MAX_LIST} values`, 'INVALID_FILTER', field);
  return [...new Set(list.map((value) => checkText(value, field)))];
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
