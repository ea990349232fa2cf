import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context';
import { badUserInput } from '../errors';
import { selectEvents, type EventFilterInput } from '../connection/filter';
import type { GatewayCaches } from '../connection/caches';
import { computeStatistics, countedWindowEnd, type StatisticsAnswer } from '../statistics/compute';
import type { StatisticsNeed } from '../statistics/count-source';
import { checkBucketCount, histogramOf, type HistogramInterval } from '../statistics/histogram';
import { StatisticsService, statisticsSnapshot } from '../statistics/service';
import { selectedFields } from './selected-fields';

/** The most actors `topActors` lists. */
export const MAX_TOP_ACTORS = 100;

/** What part of a computation's time is spent starting scans; the rest lets the last batches and the answer finish. */
const SCAN_TIME_SHARE = 0.8;

/**
 * One statistics service per gateway. A gateway's caches live exactly as long as the gateway, so
 * keying by them gives each its own answers without the composition root knowing of statistics.
 */
const services = new WeakMap<GatewayCaches, StatisticsService>();

function serviceOf(context: GatewayContext): StatisticsService {
  let service = services.get(context.caches);
  if (!service) services.set(context.caches, (service = new StatisticsService(context.config.statistics.cacheTtlSeconds)));
  return service;
}

/**
 * `Query.auditStatistics`. Everything a client can get wrong is refused before any upstream
 * call: the filter as `auditEvents` checks it, `topActors(limit)` above {@link MAX_TOP_ACTORS},
 * and a histogram of more buckets than allowed over a window with a start (a window without
 * one starts at the oldest event counted, which only the count can tell). The fields asked say
 * what must be counted, and so how each source can be counted.
 */
export async function auditStatistics(filter: EventFilterInput | null | undefined, context: GatewayContext, info: GraphQLResolveInfo): Promise<StatisticsAnswer> {
  const selection = selectEvents(filter, context.sources.filterable, 'DESC');
  const asked = selectedFields(info);
  let need: StatisticsNeed = 'TOTAL';
  for (const field of asked) {
    if (field.name === 'topActors') {
      const limit = field.args['limit'] as number;
      if (limit > MAX_TOP_ACTORS) throw badUserInput(`topActors: limit must be between 1 and ${MAX_TOP_ACTORS} (got ${limit})`, 'ARGUMENT_OUT_OF_RANGE', 'limit');
      need = 'FULL';
    }
    if (field.name === 'histogram') need = 'FULL';
    if (need === 'TOTAL' && ['byAction', 'byCategory', 'byActorType'].includes(field.name)) need = 'BREAKDOWN';
  }

  const fromMs = filter?.from ? filter.from.getTime() : null;
  const filterToMs = filter?.to ? filter.to.getTime() : null;
  const asOfMs = statisticsSnapshot(Date.now(), context.config.settleWindowMs);
  if (fromMs !== null) {
    const toMs = countedWindowEnd(filterToMs, asOfMs);
    for (const field of asked) if (field.name === 'histogram') checkBucketCount(fromMs, toMs, field.args['interval'] as HistogramInterval, true);
  }

  const { statistics, requestTimeoutMs } = context.config;
  const answer = await serviceOf(context).answer(
    { scope: context.sources.ids.sort().join(','), fingerprint: selection.fingerprint, need, filterToMs },
    asOfMs,
    (snapshotMs) => {
      const startedMs = Date.now();
      return computeStatistics(
        {
          selection,
          fromMs,
          filterToMs,
          asOfMs: snapshotMs,
          need,
          queryIsWhole: !selection.gatewayOnly,
        },
        {
          sources: context.sources,
          maxScanRequests: statistics.maxScanRequests,
          deadlineMs: startedMs + requestTimeoutMs * SCAN_TIME_SHARE,
          now: Date.now,
          // The computation is shared by every caller asking the same: no one caller's request may stop it.
          signal: AbortSignal.timeout(requestTimeoutMs),
        },
      );
    },
    context.signal,
  );
  const path = responsePathAsArray(info.path);
  for (const error of answer.errors) context.partialErrors.push({ error, path });
  for (const warning of answer.warnings) context.warnings.push({ ...warning, path });
  return answer;
}

/** `AuditStatistics.histogram(interval)`: buckets as GraphQL shows them. */
export function histogramOfAnswer(answer: StatisticsAnswer, interval: HistogramInterval): Array<{ start: Date; end: Date; count: number }> {
  return histogramOf(answer.hours, { fromMs: answer.fromMs, toMs: answer.toMs }, interval).map((bucket) => ({ start: new Date(bucket.startMs), end: new Date(bucket.endMs), count: bucket.count }));
}
