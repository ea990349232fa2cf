import { createHash, randomBytes } from 'node:crypto';
import { composeServices } from '@apollo/composition';
import { Kind, isInterfaceType, isObjectType, parse, printType, type DocumentNode } from 'graphql';
import { resolvers } from '../../resolvers';
import type { AuthConfig } from '../../src/auth';
import { parseConfig } from '../../src/config';
import { gatewaySchema } from '../../src/graphql/schema';
import { FEDERATION_SPEC_URL, subgraphSchema } from '../../src/graphql/subgraph';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/** A second subgraph, as a ticketing service would write it: it adds `ticket` to the gateway's events. */
const TICKETS_SDL = `
  extend schema @link(url: "${FEDERATION_SPEC_URL}", import: ["@key", "@shareable"])

  interface Node {
    id: ID!
  }

  type AuditEvent @key(fields: "id") {
    id: ID!
    "The ticket opened for this event, if any."
    ticket: Ticket
  }

  type Ticket implements Node @key(fields: "id") {
    id: ID!
    title: String!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type TicketEdge {
    cursor: String!
    node: Ticket!
  }

  type TicketConnection {
    edges: [TicketEdge!]!
    pageInfo: PageInfo!
  }

  type Query {
    tickets(first: Int, after: String): TicketConnection!
  }
`;

const SERVICE = '{ _service { sdl } }';
const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on AuditEvent { id action source { sourceId } }
    ... on Actor { id }
    ... on Source { id sourceId }
  }
}`;
const EVENTS = `query ($sources: [String!]) {
  auditEvents(first: 2, filter: { sources: $sources }) { nodes { id action source { id sourceId } actor { node { id } } } }
}`;

interface ListedEvent {
  id: string;
  action: string;
  source: { id: string; sourceId: string };
  actor: { node: { id: string } };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const PORT_KEY = `port-${randomBytes(16).toString('hex')}`;

function entityTypesOf(sdl: DocumentNode): string[] {
  return sdl.definitions
    .flatMap((definition) => (definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.directives?.some((applied) => applied.name.value === 'key') ? [definition.name.value] : []))
    .sort();
}

describe('server.subgraph', () => {
  const config = (server: Record<string, unknown>) => ({
    server: { cursorSecret: 'x'.repeat(40), ...server },
    sources: [{ id: 'n1', vendor: 'nirvana', baseUrl: 'http://127.0.0.1:9', allowPrivateNetwork: true, apiKey: 'k' }],
  });

  it('is off unless the config turns it on, and only true or false', () => {
    expect(parseConfig(config({}), {}).server.subgraph).toBe(false);
    expect(parseConfig(config({ subgraph: true }), {}).server.subgraph).toBe(true);
    expect(() => parseConfig(config({ subgraph: 'yes' }), {})).toThrow(/server\.subgraph/);
  });
});

describe('the subgraph schema', () => {
  it('is the plain schema with federation added: every type and field as clients of the plain gateway see them', () => {
    const plain = gatewaySchema(resolvers);
    const subgraph = subgraphSchema(resolvers);
    for (const type of Object.values(plain.getTypeMap())) {
      if (type.name.startsWith('__') || type.name === 'Query') continue;
      expect(printType(subgraph.getType(type.name)!)).toBe(printType(type));
    }
    const queryFields = Object.keys(subgraph.getQueryType()!.getFields()).sort();
    expect(queryFields).toEqual([...Object.keys(plain.getQueryType()!.getFields()), '_entities', '_service'].sort());
  });
});

describe('a gateway with server.subgraph: true', () => {
  let setup: TestGateway;
  let events: ListedEvent[];

  beforeAll(async () => {
    const auth: AuthConfig = {
      mode: 'required',
      apiKeys: [
        { id: 'everything', sha256: sha256('everything-key'), sources: '*' },
        { id: 'port-reader', sha256: sha256(PORT_KEY), sources: ['port-main'] },
      ],
      jwt: null,
    };
    setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 40 },
        { id: 'port-main', module: portModule, size: 40 },
      ],
      { subgraph: true, auth },
    );
    const listed = await setup.query<{ auditEvents: { nodes: ListedEvent[] } }>(EVENTS, { sources: ['nirvana-main'] }, { authorization: 'Bearer everything-key' });
    expect(listed.errors).toBeUndefined();
    events = listed.data!.auditEvents.nodes;
    expect(events).toHaveLength(2);
  }, 60_000);

  afterAll(async () => {
    await setup?.close();
  });

  const asEverything = { authorization: 'Bearer everything-key' };

  it('answers _service { sdl } with @key(fields: "id") on every Node type, and it composes with another subgraph', async () => {
    const answer = await setup.query<{ _service: { sdl: string } }>(SERVICE, undefined, asEverything);
    expect(answer.status).toBe(200);
    expect(answer.errors).toBeUndefined();
    const sdl = parse(answer.data!._service.sdl);

    const plain = gatewaySchema(resolvers);
    const nodeInterface = plain.getType('Node');
    if (!isInterfaceType(nodeInterface)) throw new Error('the schema has no Node interface');
    const nodeTypes = plain
      .getImplementations(nodeInterface)
      .objects.map((type) => type.name)
      .sort();
    expect(nodeTypes).toEqual(expect.arrayContaining(['Actor', 'AuditEvent', 'Source', 'Target']));
    expect(entityTypesOf(sdl)).toEqual(nodeTypes);

    const composed = composeServices([
      { name: 'audit', typeDefs: sdl, url: 'http://audit.test/graphql' },
      { name: 'tickets', typeDefs: parse(TICKETS_SDL), url: 'http://tickets.test/graphql' },
    ]);
    expect(composed.errors?.map((error) => error.message)).toBeUndefined();
    const api = composed.schema!.toAPISchema().toGraphQLJSSchema();
    const auditEvent = api.getType('AuditEvent');
    expect(isObjectType(auditEvent) && Object.keys(auditEvent.getFields())).toEqual(expect.arrayContaining(['action', 'occurredAt', 'ticket']));
    const node = api.getType('Node');
    expect(isInterfaceType(node) && api.getPossibleTypes(node).map((type) => type.name)).toEqual(expect.arrayContaining(['AuditEvent', 'Ticket']));
    expect(Object.keys(api.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['auditEvents', 'node', 'tickets']));
  });

  it('resolves _entities through the node lookup: events, actors and sources by id; null for an id of another type', async () => {
    const [first, second] = events as [ListedEvent, ListedEvent];
    const representations = [
      { __typename: 'AuditEvent', id: first.id },
      { __typename: 'Actor', id: first.actor.node.id },
      { __typename: 'Source', id: first.source.id },
      { __typename: 'AuditEvent', id: second.id },
      // A real id, but of a source, not an event.
      { __typename: 'AuditEvent', id: first.source.id },
    ];
    const answer = await setup.query<{ _entities: Array<Record<string, unknown> | null> }>(ENTITIES, { representations }, asEverything);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities).toEqual([
      { __typename: 'AuditEvent', id: first.id, action: first.action, source: { sourceId: 'nirvana-main' } },
      { __typename: 'Actor', id: first.actor.node.id },
      { __typename: 'Source', id: first.source.id, sourceId: 'nirvana-main' },
      { __typename: 'AuditEvent', id: second.id, action: second.action, source: { sourceId: 'nirvana-main' } },
      null,
    ]);
  });

  it('takes representations written in the document as well as in variables', async () => {
    const [first] = events as [ListedEvent];
    const answer = await setup.query<{ _entities: unknown[] }>(
      `{ _entities(representations: [{ __typename: "AuditEvent", id: ${JSON.stringify(first.id)} }]) { ... on AuditEvent { id action } } }`,
      undefined,
      asEverything,
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities).toEqual([{ id: first.id, action: first.action }]);
  });

  it("scopes entities to the caller's sources as node(id) does: another source's event is null", async () => {
    const [first] = events as [ListedEvent];
    const asPortReader = { authorization: `Bearer ${PORT_KEY}` };
    const entities = await setup.query<{ _entities: unknown[] }>(ENTITIES, { representations: [{ __typename: 'AuditEvent', id: first.id }] }, asPortReader);
    expect(entities.errors).toBeUndefined();
    expect(entities.data!._entities).toEqual([null]);
    const node = await setup.query<{ node: unknown }>('query ($id: ID!) { node(id: $id) { id } }', { id: first.id }, asPortReader);
    expect(node.data!.node).toBeNull();
  });

  it('refuses a representation that is not {__typename, id} of an entity type, and more than 100 at once', async () => {
    const malformed = await setup.query(ENTITIES, { representations: [{ __typename: 'PageInfo', hasNextPage: true }] }, asEverything);
    expect(malformed.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const many = Array.from({ length: 101 }, () => ({ __typename: 'AuditEvent', id: events[0]!.id }));
    const tooMany = await setup.query(ENTITIES, { representations: many }, asEverything);
    expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

describe('a gateway without server.subgraph', () => {
  let setup: TestGateway;

  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }]);
  }, 60_000);

  afterAll(async () => {
    await setup?.close();
  });

  it('has no _service, no _entities and no federation types', async () => {
    const service = await setup.query(SERVICE);
    expect(service.status).toBe(400);
    expect(service.errors?.[0]?.message).toMatch(/Cannot query field "_service" on type "Query"/);
    const entities = await setup.query('{ _entities(representations: []) { __typename } }');
    expect(entities.status).toBe(400);
    const types = await setup.query<{ entity: unknown; any: unknown }>('{ entity: __type(name: "_Entity") { name } any: __type(name: "_Any") { name } }');
    expect(types.data).toEqual({ entity: null, any: null });
  });
});
