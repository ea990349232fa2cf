import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../context';

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
