import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { operationCost } from '../../src/graphql/cost';
import { loadTypeDefs } from '../../src/graphql/schema';

const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });

function costOf(query: string, variables: Record<string, unknown> = {}): number {
  const document = parse(query);
  const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map(document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition as FragmentDefinitionNode] as const] : [])));
  return operationCost(schema, operation, fragments, variables);
}

describe('operationCost', () => {
  it('counts a connection as its page size, 20 when none is given', () => {
    expect(costOf('{ auditEvents(first: 100) { nodes { id action } } }')).toBe(100);
    expect(costOf('{ auditEvents(last: 7) { edges { node { id } } } }')).toBe(7);
    expect(costOf('{ auditEvents { nodes { id } } }')).toBe(20);
  });

  it('multiplies nested connections by the nodes they are asked for', () => {
    expect(costOf('{ auditEvents(first: 100) { nodes { actor { node { events(first: 20) { nodes { id } } } } } } }')).toBe(100 + 100 * 20);
    expect(costOf('{ auditEvents(first: 10) { nodes { actor { node { events(first: 5) { nodes { id } } } } target { node { events { nodes { id } } } } } } }')).toBe(10 + 50 + 200);
  });

  it('adds aliases, and reads page sizes from variables', () => {
    expect(costOf('query ($n: Int) { a: auditEvents(first: $n) { nodes { id } } b: auditEvents(first: $n) { nodes { id } } }', { n: 60 })).toBe(120);
  });

  it('counts nodes(ids:) as its ids and follows fragments', () => {
    expect(costOf('query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Actor { events(first: 10) { nodes { id } } } } }', { ids: ['a', 'b', 'c'] })).toBe(3 + 30);
    expect(costOf('fragment E on AuditEvent { actor { node { events(first: 2) { nodes { id } } } } } { auditEvents(first: 5) { nodes { ...E } } }')).toBe(5 + 10);
  });

  it('costs plain fields nothing', () => {
    expect(costOf('{ sources { sourceId capabilities { maxPageSize } } }')).toBe(0);
  });
});
