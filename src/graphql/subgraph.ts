import { buildSubgraphSchema } from '@apollo/subgraph';
import { addResolversToSchema } from '@graphql-tools/schema';
import {
  Kind,
  concatAST,
  isInterfaceType,
  parse,
  responsePathAsArray,
  visit,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import { MAX_IDS_PER_BATCH } from '../connection/event-loader';
import type { GatewayContext } from '../context';
import { badUserInput } from '../errors';
import { resolveNodes, type NodeModel } from './node';
import { loadTypeDefs, type SchemaResolvers } from './schema';

/** The Federation version the subgraph SDL links: @key and @shareable need no later one, and an older link composes with older routers too. */
export const FEDERATION_SPEC_URL = 'https://specs.apollo.dev/federation/v2.3';

/**
 * Object types another subgraph is likely to define too: every Relay API has a `PageInfo`, and
 * composition refuses an object type that two subgraphs resolve unless its fields are shareable.
 * The `Node` interface needs nothing: interfaces merge without it.
 */
const SHAREABLE_TYPES: ReadonlySet<string> = new Set(['PageInfo']);

/**
 * The SDL of `schema/` as an Apollo Federation 2 subgraph: every type that implements `Node` is an
 * entity keyed by its global id (exactly what `Query.node` refetches), and the shared Relay types
 * are `@shareable`. Only directives are added; fields, types and descriptions stay as clients of
 * the plain gateway see them.
 */
export function subgraphTypeDefs(typeDefs: readonly string[] = loadTypeDefs()): DocumentNode {
  const annotated = visit(concatAST(typeDefs.map((sdl) => parse(sdl))), {
    ObjectTypeDefinition(node): ObjectTypeDefinitionNode | undefined {
      const added: ConstDirectiveNode[] = [];
      if (node.interfaces?.some((named) => named.name.value === 'Node')) added.push(directive('key', 'id'));
      if (SHAREABLE_TYPES.has(node.name.value)) added.push(directive('shareable'));
      return added.length > 0 ? { ...node, directives: [...(node.directives ?? []), ...added] } : undefined;
    },
  });
  const link = parse(`extend schema @link(url: "${FEDERATION_SPEC_URL}", import: ["@key", "@shareable"])`);
  return concatAST([link, annotated]);
}

function directive(name: string, keyFields?: string): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: name },
    arguments:
      keyFields === undefined
        ? []
        : [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'fields' }, value: { kind: Kind.STRING, value: keyFields } }],
  };
}

/**
 * The gateway's schema as a federation subgraph (`server.subgraph: true`): the plain schema plus
 * `_service { sdl }` and `_entities`. An entity is resolved by {@link resolveNodes}, the lookup of
 * `Query.nodes`, so it sees the caller's sources only, batches the events of one source, and
 * answers null for an id of another type or a source the caller cannot read.
 *
 * `_entities` and `_Entity`'s type resolution are the gateway's own rather than
 * `__resolveReference` per type: Apollo's resolver marks each returned object with a
 * non-writable `__typename`, and the models here are shared (an actor object lives inside cached
 * events and is both an `Actor` and an `AuditEventActor`), so marking them would leak one type's
 * name into another's resolution.
 *
 * Compiled execution (graphql-jit) runs this schema as it runs the plain one: `_service` and
 * `_entities` are ordinary field resolvers and `_Entity` a union with a type resolver, and the
 * `_Any` representations are coerced by the scalar's own parseValue/parseLiteral, so no
 * fallback to graphql-js is needed.
 */
export function subgraphSchema(resolvers: SchemaResolvers): GraphQLSchema {
  const typeDefs = subgraphTypeDefs();
  const entityTypes = new Set(
    typeDefs.definitions.flatMap((definition) =>
      definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.directives?.some((applied) => applied.name.value === 'key') ? [definition.name.value] : [],
    ),
  );
  const entities = async (_source: unknown, args: { representations: readonly unknown[] }, context: GatewayContext, info: GraphQLResolveInfo): Promise<Array<NodeModel | null>> => {
    const { representations } = args;
    if (representations.length > MAX_IDS_PER_BATCH) {
      throw badUserInput(`representations must hold at most ${MAX_IDS_PER_BATCH} entities (got ${representations.length})`, 'ARGUMENT_OUT_OF_RANGE', 'representations');
    }
    const references = representations.map((representation, index) => entityReference(representation, index, entityTypes));
    const models = await resolveNodes(
      references.map((reference) => reference.id),
      context,
      responsePathAsArray(info.path),
    );
    return models.map((model, index) => (model !== null && nodeTypeOf(model, context, info) === references[index]?.typename ? model : null));
  };
  // Apollo's resolvers go in first; the gateway's, then these, replace them in place.
  const schema = buildSubgraphSchema({ typeDefs });
  addResolversToSchema({ schema, resolvers, updateResolversInPlace: true });
  const federation: SchemaResolvers = {
    Query: { _entities: entities },
    _Entity: { __resolveType: (model: NodeModel, context: GatewayContext, info: GraphQLResolveInfo) => nodeTypeOf(model, context, info) },
  };
  return addResolversToSchema({ schema, resolvers: federation, updateResolversInPlace: true });
}

function entityReference(representation: unknown, index: number, entityTypes: ReadonlySet<string>): { typename: string; id: string } {
  const fields = typeof representation === 'object' && representation !== null ? (representation as Record<string, unknown>) : {};
  const { __typename: typename, id } = fields;
  if (typeof typename !== 'string' || !entityTypes.has(typename) || typeof id !== 'string') {
    throw badUserInput(
      `representations[${index}]: an entity is {__typename, id} with __typename one of ${[...entityTypes].join(', ')}`,
      'INVALID_ID',
      'representations',
    );
  }
  return { typename, id };
}

/** The concrete type of a model, as `Node`'s own type resolution tells it. */
function nodeTypeOf(model: NodeModel, context: GatewayContext, info: GraphQLResolveInfo): string | undefined {
  const node = info.schema.getType('Node');
  if (!node || !isInterfaceType(node)) return undefined;
  const resolved = node.resolveType?.(model, context, info, node);
  return typeof resolved === 'string' ? resolved : undefined;
}
