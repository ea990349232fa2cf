import type { SourceCountResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const SourceCount: SourceCountResolvers = {
  source: (count, _args, context) => sourceOf(count.key, context),
};
