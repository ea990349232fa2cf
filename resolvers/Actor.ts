import { responsePathAsArray } from 'graphql';
import { actorGlobalId } from '../src/connection/global-id';
import { resolveNestedConnection } from '../src/graphql/resolve-connection';
import type { ActorResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const Actor: ActorResolvers = {
  id: (actor, _args, context) => actorGlobalId(actor, context.caches.actorIds),
  source: (actor, _args, context) => sourceOf(actor.sourceId, context),
  events: (actor, args, context, info) => {
    const ownerId = actorGlobalId(actor, context.caches.actorIds);
    return resolveNestedConnection({ owner: 'actor', ownerId, args }, context, responsePathAsArray(info.path));
  },
};
