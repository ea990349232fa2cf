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
          result.errors = errors.map((error) => ({
            ...error,
            extensions: { ...error.extensions, requestId: contextValue.requestId },
          }));
        },
      };
    },
  };
}
