import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import {
  GraphQLError,
  getNamedType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromAST,
  type FragmentDefinitionNode,
  type DocumentNode,
  type GraphQLArgument,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { PAGE_SIZE } from '../connection/paging-args';


/**
 * The cost of an operation: the most nodes it can make the gateway fetch, counted the way
 * GitHub's GraphQL API counts them. Every connection costs its `first`/`last` (20 when neither is
 * given) times the number of parents it is asked for, and so does `nodes(ids:)` with its ids; its
 * children are then asked that many times. Plain objects cost nothing of their own. So
 * `auditEvents(first: 100) { nodes { actor { node { events(first: 20) … } } } }` costs
 * 100 + 100 × 20 = 2,100, and fifteen aliases of it 31,500.
 */
export function operationCost(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, variables: Record<string, unknown>): number {
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!root) return 0;
  return selectionCost(root, operation.selectionSet, 1, { schema, fragments, variables, visiting: new Set() });
}

interface CostContext {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  /** Fragments being expanded: a cycle (refused by validation anyway) is not followed. */
  visiting: Set<string>;
}

function selectionCost(parent: GraphQLNamedType, selectionSet: SelectionSetNode, multiplier: number, context: CostContext): number {
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? context.schema.getType(selection.typeCondition.name.value) ?? parent : parent;
      cost += selectionCost(type, selection.selectionSet, multiplier, context);
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = context.fragments.get(selection.name.value);
      if (!fragment || context.visiting.has(fragment.name.value)) continue;
      context.visiting.add(fragment.name.value);
      cost += selectionCost(context.schema.getType(fragment.typeCondition.name.value) ?? parent, fragment.selectionSet, multiplier, context);
      context.visiting.delete(fragment.name.value);
    } else {
      if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
      const field = parent.getFields()[selection.name.value];
      if (!field) continue;
      const type = getNamedType(field.type);
      const fetched = fetchedNodes(type.name, field.name, field.args, selection.arguments ?? [], context.variables);
      const inner = fetched === null ? multiplier : multiplier * fetched;
      if (fetched !== null) cost += inner;
      if (selection.selectionSet) cost += selectionCost(type, selection.selectionSet, inner, context);
    }
  }
  return cost;
}

/** The nodes one ask of a field fetches: a connection's page size, the ids of `nodes` (the representations of `_entities`); null for a plain field. */
function fetchedNodes(
  typeName: string,
  fieldName: string,
  definitions: readonly GraphQLArgument[],
  given: ReadonlyArray<{ name: { value: string }; value: Parameters<typeof valueFromAST>[0] }>,
  variables: Record<string, unknown>,
): number | null {
  const argument = (name: string): unknown => {
    const definition = definitions.find((candidate) => candidate.name === name);
    const node = given.find((candidate) => candidate.name.value === name);
    return definition && node ? valueFromAST(node.value, definition.type, variables) : undefined;
  };
  if (typeName.endsWith('Connection')) {
    const size = argument('first') ?? argument('last');
    // A size beyond the largest page fetches no more than that page: paging validation refuses it
    // with its own, more useful message.
    return typeof size === 'number' && Number.isFinite(size) && size > 0 ? Math.min(size, PAGE_SIZE.max) : PAGE_SIZE.default;
  }
  if (fieldName === 'nodes' && typeName === 'Node') {
    const ids = argument('ids');
    return Array.isArray(ids) ? ids.length : 0;
  }
  // A federation subgraph's entity lookup (`server.subgraph`): `nodes` by another name.
  if (fieldName === '_entities' && typeName === '_Entity') {
    const representations = argument('representations');
    return Array.isArray(representations) ? representations.length : 0;
  }
  return null;
}

/**
 * Costs of operations that take no variables, by their parsed operation: Apollo keeps parsed
 * documents, so a query sent again is the same node and costs nothing to cost again.
 */
const constantCosts = new WeakMap<OperationDefinitionNode, number>();

function costOf(schema: GraphQLSchema, operation: OperationDefinitionNode, document: DocumentNode, variables: Record<string, unknown>): number {
  const constant = (operation.variableDefinitions ?? []).length === 0;
  const known = constant ? constantCosts.get(operation) : undefined;
  if (known !== undefined) return known;
  const fragments = new Map(document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])));
  const cost = operationCost(schema, operation, fragments, variables);
  if (constant) constantCosts.set(operation, cost);
  return cost;
}

/**
 * Where an operation's cost is spent: its caller's budget of cost points (`Admission`'s
 * `CallerBudget`, per request).
 */
export interface CostBudget {
  /** Spends `cost`, or answers why not, having spent nothing. */
  spend(cost: number): Promise<{ remaining: number; limit: number; retryAfterSeconds: number } | null>;
}

/**
 * Refuses, before anything runs, an operation whose {@link operationCost} exceeds `maxCost`:
 * HTTP 400, code BAD_USER_INPUT, reason COST_LIMIT, with the cost and the maximum. Costed with the
 * request's variables, so `first: $n` counts what `$n` is. An operation within `maxCost` then
 * spends its cost from the caller's budget (`budgetOf` its context, if it has one); when less is
 * left than it costs, it is refused instead: HTTP 429 with Retry-After, code RATE_LIMITED, reason
 * COST_BUDGET, with the cost, what is left, the limit and `retryAfterSeconds`.
 */
export function costLimitPlugin<Context extends BaseContext>(
  schema: () => GraphQLSchema,
  maxCost: number,
  budgetOf: (context: Context) => CostBudget | null = () => null,
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, contextValue }) {
          if (!operation) return;
          const cost = costOf(schema(), operation, document, request.variables ?? {});
          if (cost > maxCost) {
            throw new GraphQLError(
              `the operation may fetch ${cost} nodes, more than the ${maxCost} a request may: ask for smaller pages (first/last) or fewer nested connections`,
              { extensions: { code: 'BAD_USER_INPUT', reason: 'COST_LIMIT', cost, maxCost, http: { status: 400 } } },
            );
          }
          // A subscription is refused by the operation-resolution plugin and never runs: it costs nothing.
          if (operation.operation === 'subscription') return;
          const budget = budgetOf(contextValue);
          const refusal = budget ? await budget.spend(cost) : null;
          if (!refusal) return;
          const { remaining, limit, retryAfterSeconds } = refusal;
          throw new GraphQLError(
            `the operation costs ${cost} points and this client has ${remaining} of its ${limit} an hour left; retry after ${retryAfterSeconds} s, or ask for smaller pages (first/last) or fewer nested connections`,
            {
              extensions: {
                code: 'RATE_LIMITED',
                reason: 'COST_BUDGET',
                cost,
                remaining,
                limit,
                retryAfterSeconds,
                http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
              },
            },
          );
        },
      };
    },
  };
}
