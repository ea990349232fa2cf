import { boundQuery } from '../connection/events-connection';
import type { EventSelection } from '../connection/filter';
import { actorGlobalId } from '../connection/global-id';
import { retentionHorizon, type ConnectionWarning } from '../connection/to-connection';
import type { UpstreamError } from '../errors';
import type { ActorType, EventCategory } from '../models/audit-event';
import { retentionDaysOf } from '../sources/data-source';
import type { SourceRegistry } from '../sources/registry';
import { countSource, DEADLINE_EXCEEDED, type SourceCount, type SourceCountStatus, type StatisticsNeed } from './count-source';
import { bump, type CountedActor } from './tally';

/** A count of one value. */
export interface CountOf<K extends string = string> {
  key: K;
  count: number;
}

/** An `auditStatistics` answer, as computed once and shared by every caller that asks the same. */
export interface StatisticsAnswer {
  asOfMs: number;
  /** The counted window `[fromMs, toMs)`: the filter's, its end cut to the snapshot. */
  fromMs: number | null;
  toMs: number;
  need: StatisticsNeed;
  /** True when every selected source was counted whole: the numbers are those of a full traversal. */
  exact: boolean;
  eventsScanned: number;
  totalEvents: number;
  bySource: CountOf[];
  byAction: CountOf[];
  byCategory: CountOf<EventCategory>[];
  byActorType: CountOf<ActorType>[];
  /** Every actor counted, most events first (ties by `Actor.id`); empty unless `need` is FULL. */
  actors: CountedActor[];
  /** Events by UTC hour start; empty unless `need` is FULL. */
  hours: Map<number, number>;
  /** One per source of the caller's selection, sorted by id. */
  statuses: SourceCountStatus[];
  errors: UpstreamError[];
  warnings: ConnectionWarning[];
  /** False when a source failed or a scan ran out of time: such an answer is shared, never kept. */
  reusable: boolean;
}

/** What one answer is computed from. */
export interface StatisticsQuestion {
  selection: EventSelection;
  fromMs: number | null;
  /** The filter's own end, if any; the counted window ends at it or just after the snapshot. */
  filterToMs: number | null;
  asOfMs: number;
  need: StatisticsNeed;
  /** See `CountSourceOptions.queryIsWhole`. */
  queryIsWhole: boolean;
}

/** What computing needs of the gateway: the caller's sources and the limits of the computation. */
export interface StatisticsDeps {
  sources: SourceRegistry;
  maxScanRequests: number;
  /** No scan starts a batch after this instant (ms on `now`). */
  deadlineMs: number;
  now: () => number;
  signal: AbortSignal;
}

/** The end (exclusive) of the window counted: the filter's, cut to the snapshot. */
export function countedWindowEnd(filterToMs: number | null, asOfMs: number): number {
  return filterToMs === null ? asOfMs + 1 : Math.min(filterToMs, asOfMs + 1);
}

/**
 * Counts every selected source at once, each the cheapest exact way (`countSource`), and adds up
 * only the sources counted whole: a source that failed or could not finish is listed with its
 * status and left out of every number, so no number is ever a guess, and `exact` says whether
 * the numbers cover every source.
 */
export async function computeStatistics(question: StatisticsQuestion, deps: StatisticsDeps): Promise<StatisticsAnswer> {
  const { selection, asOfMs, need } = question;
  const counted = await Promise.all(
    selection.sourceIds.map((sourceId) =>
      countSource({
        dataSource: deps.sources.get(sourceId)!.dataSource,
        query: boundQuery(selection.queries.get(sourceId)!, asOfMs, null, 'DESC'),
        asOfMs,
        matches: selection.matches,
        need,
        queryIsWhole: question.queryIsWhole,
        maxScanRequests: deps.maxScanRequests,
        deadlineMs: deps.deadlineMs,
        now: deps.now,
        signal: deps.signal,
      }),
    ),
  );
  const warnings = [...(await retentionWarnings(question, deps)), ...otherWarnings(selection, counted)];
  return { ...addUp(counted, need), ...statusesOf(selection, counted), asOfMs, fromMs: question.fromMs, toMs: countedWindowEnd(question.filterToMs, asOfMs), need, warnings };
}

function addUp(counted: readonly SourceCount[], need: StatisticsNeed) {
  let totalEvents = 0;
  let eventsScanned = 0;
  const bySource = new Map<string, number>();
  const byAction = new Map<string, number>();
  const byCategory = new Map<EventCategory, number>();
  const byActorType = new Map<ActorType, number>();
  const hours = new Map<number, number>();
  const actors: CountedActor[] = [];
  for (const { tally, status } of counted) {
    eventsScanned += status.eventsScanned;
    if (!tally) continue;
    totalEvents += tally.total;
    if (tally.total > 0) bySource.set(tally.sourceId, tally.total);
    for (const [key, count] of tally.byAction) bump(byAction, key, count);
    for (const [key, count] of tally.byCategory) bump(byCategory, key, count);
    for (const [key, count] of tally.byActorType) bump(byActorType, key, count);
    if (need !== 'FULL') continue;
    for (const [hour, count] of tally.byHour) bump(hours, hour, count);
    actors.push(...tally.byActor.values());
  }
  const ids = new Map(actors.map((counted) => [counted, actorGlobalId(counted.actor)]));
  actors.sort((a, b) => b.count - a.count || (ids.get(a)! < ids.get(b)! ? -1 : 1));
  return { totalEvents, eventsScanned, bySource: sorted(bySource), byAction: sorted(byAction), byCategory: sorted(byCategory), byActorType: sorted(byActorType), actors, hours };
}

/** Largest first, ties by key: the order every list of counts is given in. */
function sorted<K extends string>(counts: ReadonlyMap<K, number>): CountOf<K>[] {
  return [...counts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

function statusesOf(selection: EventSelection, counted: readonly SourceCount[]) {
  const unread = (sourceId: string, state: 'SKIPPED' | 'NOT_APPLICABLE'): SourceCountStatus => ({
    sourceId,
    state,
    upstreamRequests: 0,
    eventsScanned: 0,
    eventsCounted: 0,
    errorCode: null,
    unusableRecords: 0,
  });
  const statuses = [
    ...counted.map(({ status }) => status),
    ...selection.skippedSourceIds.map((sourceId) => unread(sourceId, 'SKIPPED')),
    ...selection.notApplicable.map(({ sourceId }) => unread(sourceId, 'NOT_APPLICABLE')),
  ].sort((a, b) => (a.sourceId < b.sourceId ? -1 : 1));
  const errors = counted.flatMap(({ failure }) => (failure ? [failure] : []));
  const exact = counted.every(({ tally }) => tally !== null);
  // A budget spent is the same next time; a failure or a deadline may not be.
  const reusable = counted.every(({ status }) => status.state !== 'FAILED' && status.errorCode !== DEADLINE_EXCEEDED);
  return { statuses, errors, exact, reusable };
}

/** The warnings `auditEvents` gives for the same filter: sources not read, and records left out. */
function otherWarnings(selection: EventSelection, counted: readonly SourceCount[]): ConnectionWarning[] {
  const warnings: ConnectionWarning[] = selection.notApplicable.map(({ sourceId, fields }) => ({
    code: 'FILTER_NOT_APPLICABLE',
    message: `source '${sourceId}' records nothing that ${fields.join(', ')} can match, so none of its events match this filter; it was not read`,
    source: sourceId,
    fields,
  }));
  for (const { status } of counted) {
    if (status.unusableRecords === 0) continue;
    warnings.push({
      code: 'UNUSABLE_RECORDS',
      message: `source '${status.sourceId}' sent ${status.unusableRecords} record(s) the gateway could not place (without a usable time or identity); they were not counted`,
      source: status.sourceId,
      count: status.unusableRecords,
    });
  }
  return warnings;
}

/** A window reaching back beyond what a source keeps is answered with a warning, as `auditEvents` answers it. */
async function retentionWarnings(question: StatisticsQuestion, deps: StatisticsDeps): Promise<ConnectionWarning[]> {
  if (question.fromMs === null) return [];
  const warnings = await Promise.all(
    question.selection.sourceIds.map(async (sourceId): Promise<ConnectionWarning[]> => {
      const horizon = retentionHorizon(await retentionDaysOf(deps.sources.get(sourceId)!.dataSource, deps.signal), question.fromMs, question.asOfMs);
      if (horizon === null) return [];
      const at = new Date(horizon).toISOString();
      return [{ code: 'SOURCE_RETENTION_EXCEEDED', message: `source '${sourceId}' keeps events only since ${at}: the window starts earlier, and older events cannot be counted`, source: sourceId, retainedFrom: at }];
    }),
  );
  return warnings.flat();
}
