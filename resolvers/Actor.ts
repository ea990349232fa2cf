import { responsePathAsArray } from 'graphql';
import { actorGlobalId } from '../src/federation/global-id';
import { resolveNestedConnection } from '../src/federation/resolve-connection';
import type { ActorResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const Actor: ActorResolvers = {
  id: (actor) => actorGlobalId(actor),
  source: (actor, _args, context) => sourceOf(actor.sourceId, context),
  events: (actor, args, context, info) => {
    const ownerId = actorGlobalId(actor);
    return resolveNestedConnection({ owner: 'actor', ownerId, args }, context, responsePathAsArray(info.path));
  },
};
