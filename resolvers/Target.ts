import { responsePathAsArray } from 'graphql';
import { encodeGlobalId } from '../src/connection/global-id';
import { resolveNestedConnection } from '../src/graphql/resolve-connection';
import type { TargetResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const Target: TargetResolvers = {
  id: (target) => encodeGlobalId({ type: 'Target', sourceId: target.sourceId, targetType: target.type, sourceTargetId: target.sourceTargetId }),
  source: (target, _args, context) => sourceOf(target.sourceId, context),
  events: (target, args, context, info) => {
    const ownerId = encodeGlobalId({ type: 'Target', sourceId: target.sourceId, targetType: target.type, sourceTargetId: target.sourceTargetId });
    return resolveNestedConnection({ owner: 'target', ownerId, args }, context, responsePathAsArray(info.path));
  },
};
