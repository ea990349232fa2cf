import type { StatisticsSourceStatusResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const StatisticsSourceStatus: StatisticsSourceStatusResolvers = {
  source: (status, _args, context) => sourceOf(status.sourceId, context),
  status: (status) => status.state,
};
