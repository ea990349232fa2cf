import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context';
import { GraphQLError, Kind } from 'graphql';

/**
 * Refuses, with HTTP 400 and code OPERATION_RESOLUTION_FAILURE, a request whose document names no
 * operation to run: two operations and no `operationName`, or an `operationName` the document does
 * not hold (GraphiQL sends a stale one when a new query runs at once). Apollo Server leaves that to
 * the executor, and a custom executor (ours is graphql-jit, behind Apollo's gateway interface)
 * would otherwise fail with a 500. Subscriptions are refused the same way: the schema has none,
 * and the gateway serves no streaming transport.
 */
export function operationResolutionPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, document, request, contextValue }) {
          if (!operation) {
            const names = document.definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value ?? '(anonymous)'] : []));
            const message = request.operationName
              ? `operationName '${request.operationName.slice(0, 64)}' names no operation of the document (it has: ${names.join(', ')})`
              : `the document holds ${names.length} operations (${names.join(', ')}): say which to run with operationName`;
            throw refusal(message);
          }
          if (operation.operation === 'subscription') {
            // A client expecting a stream learns nothing from a 400 in its own logs: say it here.
            contextValue.logger.info({ operationName: operationName ?? null }, 'subscription refused: the gateway serves queries and mutations only');
            throw refusal(`subscription${operationName ? ` '${operationName}'` : ''}: the gateway serves queries and mutations only`);
          }
        },
      };
    },
  };
}

function refusal(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
}
