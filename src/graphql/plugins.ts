import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../context';
import { formatGatewayError } from '../errors';

/**
 * Adds the errors of sources that failed while the others answered (partial results, HTTP 200
 * with `data` and `errors`), and the request id to every error so that a user can quote it;
 * warnings (a window older than a source keeps) go to `extensions.warnings`.
 */
export function partialErrorsPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (contextValue.warnings.length > 0) {
            result.extensions = { ...result.extensions, warnings: contextValue.warnings.map((warning) => ({ ...warning, path: [...warning.path] })) };
          }
          const extra: GraphQLFormattedError[] = contextValue.partialErrors.map(({ error, path }) => ({
            message: error.message,
            path,
            extensions: { ...error.extensions },
          }));
          const errors = [...(result.errors ?? []), ...extra];
          if (errors.length === 0) return;
          // Input the client must fix is a 400 even when a resolver found it (a page size out of
          // range, a forged cursor, an unknown source), as it is when validation finds it.
          if (errors.every((error) => error.extensions?.['code'] === 'BAD_USER_INPUT')) response.http.status = 400;
          result.errors = errors.map((error) => ({
            ...error,
            extensions: { ...error.extensions, requestId: contextValue.requestId },
          }));
        },
      };
    },
  };
}

/**
 * Tells the request's report what ran and how it ended, and logs an error that will reach the
 * client masked as INTERNAL_SERVER_ERROR on the request's logger, so that the line carries the
 * request id the client sees. Runs after {@link partialErrorsPlugin}, whose errors count too.
 * `logged` receives each error logged here: `formatError`, which sees no request, logs only the
 * others (a failure before any request context existed).
 */
export function operationReportPlugin(logged: WeakSet<object>): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation) contextValue.report.resolved({ name: operation.name?.value ?? null, type: operation.operation });
        },
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            formatGatewayError(error.toJSON(), error, (masked) => {
              contextValue.logger.error({ err: masked }, 'unexpected error masked as INTERNAL_SERVER_ERROR');
              if (typeof masked === 'object' && masked !== null) logged.add(masked);
            });
          }
        },
        async willSendResponse({ response, contextValue }) {
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const codes = new Set(errors.map((error) => String(error.extensions?.['code'] ?? 'INTERNAL_SERVER_ERROR')));
          contextValue.report.answered([...codes].sort());
        },
      };
    },
  };
}
