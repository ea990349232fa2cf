import { histogramOfAnswer } from '../src/graphql/statistics';
import type { AuditStatisticsResolvers } from '../src/generated/graphql';

export const AuditStatistics: AuditStatisticsResolvers = {
  asOf: (answer) => new Date(answer.asOfMs),
  from: (answer) => (answer.fromMs === null ? null : new Date(answer.fromMs)),
  to: (answer) => new Date(answer.toMs),
  exact: (answer) => answer.exact,
  eventsScanned: (answer) => answer.eventsScanned,
  sourceStatuses: (answer) => answer.statuses,
  totalEvents: (answer) => answer.totalEvents,
  byAction: (answer) => answer.byAction,
  bySource: (answer) => answer.bySource,
  byCategory: (answer) => answer.byCategory.map(({ key, count }) => ({ category: key, count })),
  byActorType: (answer) => answer.byActorType.map(({ key, count }) => ({ actorType: key, count })),
  // The limit was checked before anything was counted (see src/graphql/statistics.ts).
  topActors: (answer, { limit }) => answer.actors.slice(0, limit ?? 10),
  histogram: (answer, { interval }) => histogramOfAnswer(answer, interval),
};
