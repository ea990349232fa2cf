import { responsePathAsArray } from 'graphql';
import { actorKey, encodeGlobalId } from '../src/federation/global-id';
import { resolveNestedConnection } from '../src/federation/resolve-connection';
import type { ActorResolvers } from '../src/generated/graphql';
import { sourceOf } from './source-of';

export const Actor: ActorResolvers = {
  id: (actor) => encodeGlobalId({ type: 'Actor', sourceId: actor.sourceId, actorKey: actorKey(actor.sourceActorId, actor.type) }),
  source: (actor, _args, context) => sourceOf(actor.sourceId, context),
  events: (actor, args, context, info) => {
    const ownerId = encodeGlobalId({ type: 'Actor', sourceId: actor.sourceId, actorKey: actorKey(actor.sourceActorId, actor.type) });
    return resolveNestedConnection({ owner: 'actor', ownerId, args }, context, responsePathAsArray(info.path));
  },
};
