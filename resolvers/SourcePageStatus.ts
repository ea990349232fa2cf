import type { SourcePageStatusResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const SourcePageStatus: SourcePageStatusResolvers = {
  source: (status, _args, context) => sourceOf(status.sourceId, context),
};
