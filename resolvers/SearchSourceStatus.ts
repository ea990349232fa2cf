import type { SearchSourceStatusResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const SearchSourceStatus: SearchSourceStatusResolvers = {
  source: (status, _args, context) => sourceOf(status.sourceId, context),
};
