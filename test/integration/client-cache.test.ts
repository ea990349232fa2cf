import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { map } from 'rxjs';
import { vendorModules } from '../../src/vendors';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/** Every field of an event, as a client showing an audit log would ask for it. */
const EVENTS = gql`
  query Events($first: Int, $after: String, $filter: AuditEventFilter) {
    auditEvents(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          id
          sourceEventId
          action
          category
          occurredAt
          failed
          details
          raw
          source { id sourceId vendor name }
          actor { type name email sourceActorId node { id sourceActorId source { id } } }
          target { type name sourceTargetId node { id type sourceTargetId source { id } } }
          request { clientIp userAgent httpMethod path statusCode sessionId traceId requestId origin }
          integrity { hash previousHash }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

interface ServedEdge {
  node: { id: string; actor: { node: { id: string } }; target: { name: string | null; node: { id: string } } | null };
}
interface EventsData {
  auditEvents: { edges: ServedEdge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const PER_SOURCE = 300;

describe('a normalising client cache (Apollo Client InMemoryCache, relayStylePagination)', () => {
  let setup: TestGateway;
  let client: ApolloClient;
  /** Every event exactly as the gateway sent it, by id, recorded before the cache saw it. */
  const served = new Map<string, unknown>();

  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-cache`, module, size: PER_SOURCE, seed: 2026 + index })));
    const record = new ApolloLink((operation, forward) =>
      forward(operation).pipe(
        map((result) => {
          const data = result.data as EventsData | undefined;
          for (const edge of data?.auditEvents.edges ?? []) served.set(edge.node.id, structuredClone(edge.node));
          return result;
        }),
      ),
    );
    client = new ApolloClient({
      link: ApolloLink.from([record, new HttpLink({ uri: setup.gateway.url })]),
      cache: new InMemoryCache({
        possibleTypes: { Node: ['AuditEvent', 'Actor', 'Target', 'Source', 'EvidenceExport'] },
        typePolicies: { Query: { fields: { auditEvents: relayStylePagination(['filter']) } } },
      }),
    });
  });
  afterAll(async () => {
    client?.stop();
    await setup?.close();
  });

  it('reads every event of every vendor back from the cache exactly as the server sent it', async () => {
    let page = await client.query<EventsData>({ query: EVENTS, variables: { first: 100 } });
    while (page.data!.auditEvents.pageInfo.hasNextPage) {
      page = await client.query<EventsData>({ query: EVENTS, variables: { first: 100, after: page.data!.auditEvents.pageInfo.endCursor }, fetchPolicy: 'network-only' });
    }
    expect(served.size).toBe(PER_SOURCE * modules.length);

    const cached = client.readQuery<EventsData>({ query: EVENTS, variables: { first: 100 } });
    const edges = cached!.auditEvents.edges;
    expect(edges).toHaveLength(served.size);
    for (const edge of edges) expect(edge.node).toEqual(served.get(edge.node.id));

    // The data holds what made the old shape wrong: one shared entity recorded under several
    // names, and actors shared by many events. Those still resolve to one cached entity each.
    const namesByTarget = new Map<string, Set<string | null>>();
    for (const edge of edges) {
      if (edge.node.target) namesByTarget.set(edge.node.target.node.id, (namesByTarget.get(edge.node.target.node.id) ?? new Set()).add(edge.node.target.name));
    }
    expect([...namesByTarget.values()].some((names) => names.size > 1)).toBe(true);
    const actorIds = new Set(edges.map((edge) => edge.node.actor.node.id));
    expect(actorIds.size).toBeLessThan(edges.length / 2);
    expect(client.cache.extract()).toHaveProperty([client.cache.identify({ __typename: 'Actor', id: [...actorIds][0]! })!]);
  });

  it('reads back the pages of one vendor at a time as served, whichever vendor', async () => {
    for (const module of modules) {
      const filter = { sources: [`${module.vendor}-cache`] };
      let page = await client.query<EventsData>({ query: EVENTS, variables: { first: 100, filter }, fetchPolicy: 'network-only' });
      while (page.data!.auditEvents.pageInfo.hasNextPage) {
        page = await client.query<EventsData>({ query: EVENTS, variables: { first: 100, after: page.data!.auditEvents.pageInfo.endCursor, filter }, fetchPolicy: 'network-only' });
      }
      const cached = client.readQuery<EventsData>({ query: EVENTS, variables: { first: 100, filter } });
      expect(cached!.auditEvents.edges).toHaveLength(PER_SOURCE);
      for (const edge of cached!.auditEvents.edges) expect(edge.node).toEqual(served.get(edge.node.id));
    }
  });
});
