import { GraphQLError, locatedError, type GraphQLFormattedError } from 'graphql';
import { badUserInput, ErrorCode, errorCodeForUpstreamStatus, formatGatewayError, GatewayError, notImplemented, UpstreamError } from '../../src/errors';

const LOCATIONS = [{ line: 1, column: 3 }];
const PATH = ['auditEvents'];
const STACK = ['Error: boom', '    at resolve (/srv/gateway/dist/src/x.js:1:1)'];

/** Formats `error` as Apollo Server hands it over, recording what was masked. */
function format(formatted: GraphQLFormattedError, error: unknown) {
  const masked: unknown[] = [];
  const result = formatGatewayError(formatted, error, (original) => masked.push(original));
  return { result, masked };
}

/** An error thrown in a resolver, as graphql-js wraps it (with a path) before Apollo formats it. */
function thrownInResolver(error: Error): GraphQLError {
  return locatedError(error, undefined, PATH);
}

describe('formatGatewayError', () => {
  it('keeps a gateway error thrown in a resolver: its own message and extensions, the location and path', () => {
    const error = badUserInput('first must be between 1 and 100', 'ARGUMENT_OUT_OF_RANGE', 'first');
    const formatted: GraphQLFormattedError = {
      message: 'first must be between 1 and 100',
      locations: LOCATIONS,
      path: PATH,
      extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE', field: 'first', stacktrace: STACK },
    };
    expect(format(formatted, thrownInResolver(error))).toEqual({
      result: {
        message: 'first must be between 1 and 100',
        locations: LOCATIONS,
        path: PATH,
        extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE', field: 'first' },
      },
      masked: [],
    });
  });

  it("keeps an upstream error's safe extensions and message, never its log detail", () => {
    const error = new UpstreamError(ErrorCode.UpstreamRateLimited, 'nirvana-main', {
      httpStatus: 429,
      retryAfterSeconds: 30,
      logDetail: { body: 'quota exceeded for key nl_live_123 at 10.0.0.7:8443' },
    });
    const formatted: GraphQLFormattedError = { message: error.message, path: PATH, extensions: { ...error.extensions, stacktrace: STACK } };
    expect(format(formatted, thrownInResolver(error))).toEqual({
      result: {
        message: "The upstream of source 'nirvana-main' is rate limiting the gateway; retry after 30 s",
        path: PATH,
        extensions: { code: 'UPSTREAM_RATE_LIMITED', source: 'nirvana-main', httpStatus: 429, retryAfterSeconds: 30 },
      },
      masked: [],
    });
  });

  it('takes the message and extensions from the gateway error, whatever the formatted error says', () => {
    const error = notImplemented('Query.evidence');
    const formatted: GraphQLFormattedError = { message: 'Unexpected error value: {}', extensions: { code: 'INTERNAL_SERVER_ERROR', extra: 'dropped' } };
    expect(format(formatted, error)).toEqual({
      result: { message: 'Query.evidence is not implemented yet', extensions: { code: 'NOT_IMPLEMENTED', field: 'Query.evidence' } },
      masked: [],
    });
  });

  it("passes Apollo's and graphql-js's own request errors through unchanged, without stack traces", () => {
    for (const code of [
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'BAD_USER_INPUT',
      'BAD_REQUEST',
      'OPERATION_RESOLUTION_FAILURE',
      'PERSISTED_QUERY_NOT_FOUND',
      'PERSISTED_QUERY_NOT_SUPPORTED',
    ]) {
      const formatted: GraphQLFormattedError = { message: 'Syntax Error: Expected Name, found "}".', locations: LOCATIONS, extensions: { code, stacktrace: STACK } };
      expect({ code, ...format(formatted, new GraphQLError(formatted.message)) }).toEqual({
        code,
        result: { message: 'Syntax Error: Expected Name, found "}".', locations: LOCATIONS, extensions: { code } },
        masked: [],
      });
    }
  });

  it('keeps a pass-through error that has no stack trace exactly as it is', () => {
    const formatted: GraphQLFormattedError = { message: 'Variable "$first" got invalid value "x"; Int cannot represent non-integer value: "x"', extensions: { code: 'BAD_USER_INPUT' } };
    expect(format(formatted, new GraphQLError(formatted.message)).result).toBe(formatted);
  });

  it('masks anything else as INTERNAL_SERVER_ERROR with no detail, keeping only location and path, and hands the original to the log', () => {
    const original = new Error('connect ECONNREFUSED 127.0.0.1:8443');
    const formatted: GraphQLFormattedError = {
      message: 'connect ECONNREFUSED 127.0.0.1:8443',
      locations: LOCATIONS,
      path: PATH,
      extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: STACK },
    };
    expect(format(formatted, thrownInResolver(original))).toEqual({
      result: { message: 'Internal server error', locations: LOCATIONS, path: PATH, extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      masked: [original],
    });
  });

  it('masks an error without location or path to the message and code alone', () => {
    const formatted: GraphQLFormattedError = { message: 'Cannot read properties of undefined (reading "sourceId")', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    expect(format(formatted, new TypeError(formatted.message))).toEqual({
      result: { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      masked: [new TypeError(formatted.message)],
    });
  });

  it('masks a pass-through code on something that is not a GraphQL error, and a GraphQL error with a code of its own', () => {
    const disguised = Object.assign(new Error('password=hunter2'), { extensions: { code: 'BAD_USER_INPUT' } });
    const foreign = new GraphQLError('upstream said: 10.0.0.7 refused', { extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } });
    expect(format({ message: 'password=hunter2', extensions: { code: 'BAD_USER_INPUT' } }, thrownInResolver(disguised))).toEqual({
      result: { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      masked: [disguised],
    });
    expect(format({ message: foreign.message, extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } }, foreign)).toEqual({
      result: { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      masked: [foreign],
    });
  });

  it('masks something thrown that is not an Error at all', () => {
    expect(format({ message: 'Unexpected error value: "oops"', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, 'oops')).toEqual({
      result: { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      masked: ['oops'],
    });
  });

  it('reclassifies a literal argument value that graphql-js refuses in validation as BAD_USER_INPUT', () => {
    for (const message of [
      'Int cannot represent non 32-bit signed integer value: 2147483648',
      'Int cannot represent non-integer value: "x"',
      'Expected value of type "Int!", found null.',
      'Value "x" is not a valid DateTime',
    ]) {
      const formatted: GraphQLFormattedError = { message, locations: LOCATIONS, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: STACK } };
      expect(format(formatted, new GraphQLError(message)).result).toEqual({ message, locations: LOCATIONS, extensions: { code: 'BAD_USER_INPUT' } });
    }
  });

  it('leaves other validation failures, and value wording under other codes, as they are', () => {
    const unknownField: GraphQLFormattedError = { message: 'Cannot query field "c" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(format(unknownField, new GraphQLError(unknownField.message)).result).toEqual(unknownField);
    const parse: GraphQLFormattedError = { message: 'Syntax Error: Int cannot represent 1e999', extensions: { code: 'GRAPHQL_PARSE_FAILED' } };
    expect(format(parse, new GraphQLError(parse.message)).result).toEqual(parse);
  });
});

describe('GatewayError', () => {
  it('carries its code in extensions next to the safe extensions given', () => {
    const error = new GatewayError(ErrorCode.LookupIncomplete, 'not found within the budget', { source: 'asana' }, { scanned: 5 });
    expect({ message: error.message, extensions: error.extensions, code: error.code, logDetail: error.logDetail, name: error.name }).toEqual({
      message: 'not found within the budget',
      extensions: { code: 'LOOKUP_INCOMPLETE', source: 'asana' },
      code: 'LOOKUP_INCOMPLETE',
      logDetail: { scanned: 5 },
      name: 'GatewayError',
    });
  });

  it('gives badUserInput only the reason and field it was given', () => {
    expect(badUserInput('bad').extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(badUserInput('bad', 'INVALID_FILTER').extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_FILTER' });
  });
});

describe('errorCodeForUpstreamStatus', () => {
  const codes = (statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, errorCodeForUpstreamStatus(status)]));

  it('reads 401 and 403 as rejected credentials', () => {
    expect(codes([401, 403])).toEqual({ 401: 'UPSTREAM_AUTH_FAILED', 403: 'UPSTREAM_AUTH_FAILED' });
  });

  it('reads 429 as a rate limit', () => {
    expect(errorCodeForUpstreamStatus(429)).toBe('UPSTREAM_RATE_LIMITED');
  });

  it('reads 408 and 504 as timeouts', () => {
    expect(codes([408, 504])).toEqual({ 408: 'UPSTREAM_TIMEOUT', 504: 'UPSTREAM_TIMEOUT' });
  });

  it('reads every other 4xx as a refused request', () => {
    expect(codes([400, 402, 404, 405, 409, 410, 413, 422, 451, 499])).toEqual({
      400: 'UPSTREAM_BAD_REQUEST',
      402: 'UPSTREAM_BAD_REQUEST',
      404: 'UPSTREAM_BAD_REQUEST',
      405: 'UPSTREAM_BAD_REQUEST',
      409: 'UPSTREAM_BAD_REQUEST',
      410: 'UPSTREAM_BAD_REQUEST',
      413: 'UPSTREAM_BAD_REQUEST',
      422: 'UPSTREAM_BAD_REQUEST',
      451: 'UPSTREAM_BAD_REQUEST',
      499: 'UPSTREAM_BAD_REQUEST',
    });
  });

  it('reads every other 5xx as an unavailable upstream', () => {
    expect(codes([500, 501, 502, 503, 507, 599])).toEqual({
      500: 'UPSTREAM_UNAVAILABLE',
      501: 'UPSTREAM_UNAVAILABLE',
      502: 'UPSTREAM_UNAVAILABLE',
      503: 'UPSTREAM_UNAVAILABLE',
      507: 'UPSTREAM_UNAVAILABLE',
      599: 'UPSTREAM_UNAVAILABLE',
    });
  });

  it('reads a 3xx as a protocol error: redirects are never followed', () => {
    expect(codes([300, 301, 302, 304, 307, 308, 399])).toEqual({
      300: 'UPSTREAM_PROTOCOL_ERROR',
      301: 'UPSTREAM_PROTOCOL_ERROR',
      302: 'UPSTREAM_PROTOCOL_ERROR',
      304: 'UPSTREAM_PROTOCOL_ERROR',
      307: 'UPSTREAM_PROTOCOL_ERROR',
      308: 'UPSTREAM_PROTOCOL_ERROR',
      399: 'UPSTREAM_PROTOCOL_ERROR',
    });
  });

  it('has no code of its own for statuses that are not errors or not HTTP (1xx, 2xx, 600 and up): unavailable', () => {
    expect(codes([100, 200, 204, 299, 600, 999])).toEqual({
      100: 'UPSTREAM_UNAVAILABLE',
      200: 'UPSTREAM_UNAVAILABLE',
      204: 'UPSTREAM_UNAVAILABLE',
      299: 'UPSTREAM_UNAVAILABLE',
      600: 'UPSTREAM_UNAVAILABLE',
      999: 'UPSTREAM_UNAVAILABLE',
    });
  });
});
