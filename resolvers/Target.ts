import { responsePathAsArray } from 'graphql';
import { encodeGlobalId } from '../src/federation/global-id';
import { resolveEventConnection } from '../src/federation/resolve-connection';
import type { TargetResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const Target: TargetResolvers = {
  id: (target) => encodeGlobalId({ type: 'Target', sourceId: target.sourceId, targetType: target.type, sourceTargetId: target.sourceTargetId }),
  source: (target, _args, context) => sourceOf(target.sourceId, context),
  events: (target, args, context, info) => {
    const id = encodeGlobalId({ type: 'Target', sourceId: target.sourceId, targetType: target.type, sourceTargetId: target.sourceTargetId });
    const filter = { ...args.filter, targetIds: [id] };
    return resolveEventConnection({ ...args, filter }, context, responsePathAsArray(info.path));
  },
};
