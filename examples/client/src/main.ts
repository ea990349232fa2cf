/**
 * A typed client of Audit Gateway with nothing but `fetch`: the operations below are compiled by
 * GraphQL Code Generator's client preset into typed documents, so every variable and every field
 * of every answer is checked by `tsc` against the gateway's schema.
 *
 *   node dist/main.js [URL]    URL, else AUDIT_GATEWAY_URL, else http://localhost:4000/graphql
 *   AUDIT_GATEWAY_TOKEN        sent as `Authorization: Bearer …` when the gateway asks for a key
 *
 * It pages through the newest events, refetches the first one by its global id, and asks for
 * statistics; exit status 1 on any error.
 */
import { graphql } from './gql';
import type { EventsPageQuery, TypedDocumentString } from './gql/graphql';

const EventsPage = graphql(`
  query EventsPage($first: Int!, $after: String) {
    auditEvents(first: $first, after: $after) {
      edges {
        node {
          id
          occurredAt
          action
          actor {
            name
            email
          }
          source {
            sourceId
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const EventById = graphql(`
  query EventById($id: ID!) {
    node(id: $id) {
      __typename
      ... on AuditEvent {
        id
        action
        occurredAt
        sourceEventId
        source {
          sourceId
          vendor
        }
      }
    }
  }
`);

const Statistics = graphql(`
  query Statistics {
    auditStatistics {
      asOf
      exact
      totalEvents
      sourceStatuses {
        source {
          sourceId
        }
        status
        eventsCounted
      }
    }
  }
`);

const PAGE_SIZE = 5;
const PAGES = 3;

interface GraphQLResponse<Result> {
  data?: Result | null;
  errors?: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number>; extensions?: { code?: string } }>;
}

/** Posts one typed operation; the variables and the answer are those of its document. */
async function execute<Result, Variables>(
  url: string,
  document: TypedDocumentString<Result, Variables>,
  ...[variables]: Variables extends Record<string, never> ? [] : [Variables]
): Promise<Result> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  const token = process.env['AUDIT_GATEWAY_TOKEN'];
  if (token) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: document.toString(), variables }) });
  const body = (await response.json()) as GraphQLResponse<Result>;
  // A page can stand while one source failed: the gateway answers with data and names the source in
  // `errors`. Those are reported; only an answer without data is a failure.
  for (const error of body.errors ?? []) {
    console.error(`warning: ${error.message} (${error.extensions?.code ?? 'no code'} at ${(error.path ?? []).join('.') || 'the operation'})`);
  }
  if (!response.ok || body.data == null) throw new Error(`${url} answered HTTP ${response.status} without data`);
  return body.data;
}

async function main(url: string): Promise<void> {
  let after: string | null = null;
  let firstEventId: string | null = null;
  for (let page = 1; page <= PAGES; page += 1) {
    // Annotated: `after` comes from the previous answer, which TypeScript cannot infer through the loop.
    const data: EventsPageQuery = await execute(url, EventsPage, { first: PAGE_SIZE, after });
    const connection = data.auditEvents;
    if (!connection) throw new Error('every source failed');
    console.log(`page ${page}: ${connection.edges.length} events`);
    for (const { node } of connection.edges) {
      firstEventId ??= node.id;
      console.log(`  ${node.id} ${node.occurredAt} ${node.source.sourceId} ${node.action} by ${node.actor.name ?? node.actor.email ?? 'unknown'}`);
    }
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) break;
    after = connection.pageInfo.endCursor;
  }

  if (firstEventId) {
    const { node } = await execute(url, EventById, { id: firstEventId });
    if (node?.__typename !== 'AuditEvent') throw new Error(`node(id: ${firstEventId}) is not the event listed`);
    console.log(`refetched ${node.__typename} ${node.id}: ${node.action} at ${node.occurredAt} in ${node.source.sourceId} (${node.source.vendor}, its id ${node.sourceEventId})`);
  }

  const { auditStatistics } = await execute(url, Statistics);
  console.log(`statistics as of ${auditStatistics.asOf}: ${auditStatistics.totalEvents} events${auditStatistics.exact ? '' : ' (not exact: a source is missing)'}`);
  for (const status of auditStatistics.sourceStatuses) {
    console.log(`  ${status.source.sourceId} ${status.status} ${status.eventsCounted ?? '-'}`);
  }
}

const url = process.argv[2] ?? process.env['AUDIT_GATEWAY_URL'] ?? 'http://localhost:4000/graphql';
main(url).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
