import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

/**
 * Every `extensions.code` the gateway sends. Clients switch on these; the message is for people.
 * Codes from Apollo Server itself (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
 * OPERATION_RESOLUTION_FAILURE, BAD_REQUEST, PERSISTED_QUERY_*) pass through unchanged.
 */
export enum ErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  NotImplemented = 'NOT_IMPLEMENTED',
  /** A search that ran out of its request budget before it could tell whether something exists. */
  LookupIncomplete = 'LOOKUP_INCOMPLETE',
  InternalServerError = 'INTERNAL_SERVER_ERROR',
  UpstreamUnavailable = 'UPSTREAM_UNAVAILABLE',
  UpstreamUnreachable = 'UPSTREAM_UNREACHABLE',
  UpstreamTimeout = 'UPSTREAM_TIMEOUT',
  UpstreamRateLimited = 'UPSTREAM_RATE_LIMITED',
  UpstreamAuthFailed = 'UPSTREAM_AUTH_FAILED',
  UpstreamBadRequest = 'UPSTREAM_BAD_REQUEST',
  UpstreamMalformedResponse = 'UPSTREAM_MALFORMED_RESPONSE',
  UpstreamResponseTooLarge = 'UPSTREAM_RESPONSE_TOO_LARGE',
  UpstreamProtocolError = 'UPSTREAM_PROTOCOL_ERROR',
  UpstreamCursorExpired = 'UPSTREAM_CURSOR_EXPIRED',
  TieGroupTooLarge = 'TIE_GROUP_TOO_LARGE',
  /** The gateway has no `server.exports`: evidence exports are off. */
  ExportsDisabled = 'EXPORTS_DISABLED',
  /** `server.exports.maxConcurrent` exports are running; start another when one has ended. */
  ExportLimitReached = 'EXPORT_LIMIT_REACHED',
}

/** Finer reasons for BAD_USER_INPUT, in `extensions.reason`. */
export type BadInputReason =
  | 'CURSOR_INVALID'
  | 'CURSOR_EXPIRED'
  | 'ARGUMENT_OUT_OF_RANGE'
  | 'ARGUMENT_CONFLICT'
  | 'UNKNOWN_SOURCE'
  | 'INVALID_FILTER'
  | 'INVALID_ID'
  /** The source exists for the caller but its vendor does not offer what was asked (`extensions.capability`). */
  | 'SOURCE_LACKS_CAPABILITY'
  /** A search query that does not parse (`extensions.position`). */
  | 'INVALID_QUERY';

/** Extension values that are safe to show a client: no upstream text, hosts or credentials. */
export interface SafeExtensions {
  reason?: BadInputReason;
  source?: string;
  httpStatus?: number;
  retryAfterSeconds?: number;
  requestId?: string;
  field?: string;
  /** The capability a source lacks (a `Source.capabilities` field name), with SOURCE_LACKS_CAPABILITY. */
  capability?: string;
  /** Where in a search query the problem is (1-based), with INVALID_QUERY. */
  position?: number;
}

/**
 * The base of every error the gateway raises on purpose. Its message and extensions reach the
 * client as they are, so they must never carry upstream text, hosts, ports or secrets; put those
 * in `logDetail`, which only goes to the (redacted) server log.
 */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  readonly logDetail: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    extensions: SafeExtensions = {},
    logDetail?: Record<string, unknown>,
  ) {
    super(message, { extensions: { code, ...extensions } });
    this.name = 'GatewayError';
    this.code = code;
    this.logDetail = logDetail;
  }
}

/** A bad argument or filter: the client can fix it. */
export function badUserInput(message: string, reason?: BadInputReason, field?: string): GatewayError {
  const extensions: SafeExtensions = {};
  if (reason) extensions.reason = reason;
  if (field) extensions.field = field;
  return new GatewayError(ErrorCode.BadUserInput, message, extensions);
}

/** A field of the schema whose resolver has not been built yet. */
export function notImplemented(field: string): GatewayError {
  return new GatewayError(ErrorCode.NotImplemented, `${field} is not implemented yet`, { field });
}

/**
 * An upstream failure, always naming the source. `retryAfterSeconds` is set for rate limits.
 */
export class UpstreamError extends GatewayError {
  readonly sourceId: string;
  readonly retryAfterSeconds: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(
    code: ErrorCode,
    sourceId: string,
    options: { httpStatus?: number; retryAfterSeconds?: number; logDetail?: Record<string, unknown> } = {},
  ) {
    const extensions: SafeExtensions = { source: sourceId };
    if (options.httpStatus !== undefined) extensions.httpStatus = options.httpStatus;
    if (options.retryAfterSeconds !== undefined) extensions.retryAfterSeconds = options.retryAfterSeconds;
    super(code, upstreamMessage(code, sourceId, options.retryAfterSeconds), extensions, options.logDetail);
    this.name = 'UpstreamError';
    this.sourceId = sourceId;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.httpStatus = options.httpStatus;
  }
}

function upstreamMessage(code: ErrorCode, sourceId: string, retryAfterSeconds: number | undefined): string {
  const source = `source '${sourceId}'`;
  switch (code) {
    case ErrorCode.UpstreamAuthFailed:
      return `The upstream of ${source} rejected the gateway's credentials; check the source's credentials in the config`;
    case ErrorCode.UpstreamRateLimited:
      return retryAfterSeconds === undefined
        ? `The upstream of ${source} is rate limiting the gateway`
        : `The upstream of ${source} is rate limiting the gateway; retry after ${retryAfterSeconds} s`;
    case ErrorCode.UpstreamTimeout:
      return `The upstream of ${source} did not answer in time`;
    case ErrorCode.UpstreamUnreachable:
      return `The upstream of ${source} could not be reached`;
    case ErrorCode.UpstreamBadRequest:
      return `The upstream of ${source} refused the gateway's request`;
    case ErrorCode.UpstreamMalformedResponse:
      return `The upstream of ${source} sent a response the gateway cannot read`;
    case ErrorCode.UpstreamResponseTooLarge:
      return `The upstream of ${source} sent a response larger than the gateway accepts`;
    case ErrorCode.UpstreamProtocolError:
      return `The upstream of ${source} broke its protocol (a redirect, a foreign link, or events out of order)`;
    case ErrorCode.UpstreamCursorExpired:
      return `The upstream of ${source} no longer accepts the paging position; start the traversal again`;
    case ErrorCode.UpstreamUnavailable:
      return `The upstream of ${source} is unavailable`;
    case ErrorCode.TieGroupTooLarge:
      return `More events of ${source} share one millisecond than a page may read; raise server.scanBudgetRequests to list them`;
    default:
      return `The upstream of ${source} failed`;
  }
}

/**
 * The one place an upstream HTTP status becomes an error code. Success and redirects are not
 * errors here; callers treat 3xx as a protocol error because redirects are never followed.
 */
export function errorCodeForUpstreamStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return ErrorCode.UpstreamAuthFailed;
  if (status === 429) return ErrorCode.UpstreamRateLimited;
  if (status === 408 || status === 504) return ErrorCode.UpstreamTimeout;
  if (status >= 300 && status < 400) return ErrorCode.UpstreamProtocolError;
  if (status >= 400 && status < 500) return ErrorCode.UpstreamBadRequest;
  return ErrorCode.UpstreamUnavailable;
}

/** Codes raised by Apollo Server or graphql-js that are safe to show as they are. */
const PASS_THROUGH_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  // The cost-budget refusal of `costLimitPlugin`: its extensions are figures of the caller's own budget.
  'RATE_LIMITED',
]);

/**
 * Apollo Server's `formatError`: keeps gateway errors and Apollo's own request errors, masks
 * everything else as INTERNAL_SERVER_ERROR with no message detail. Apollo Server 5 would
 * otherwise pass e.g. "connect ECONNREFUSED 127.0.0.1:…" straight to the client.
 */
export function formatGatewayError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onMasked: (error: unknown) => void,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof GatewayError) {
    return withoutStacktrace({ ...formatted, message: original.message, extensions: { ...original.extensions } });
  }
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && PASS_THROUGH_CODES.has(code) && original instanceof GraphQLError) {
    return withoutStacktrace(reclassifyValueErrors(formatted));
  }
  onMasked(original);
  const masked: GraphQLFormattedError = {
    message: 'Internal server error',
    extensions: { code: ErrorCode.InternalServerError },
  };
  if (formatted.locations) Object.assign(masked, { locations: formatted.locations });
  if (formatted.path) Object.assign(masked, { path: formatted.path });
  return masked;
}

function withoutStacktrace(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (!formatted.extensions || !('stacktrace' in formatted.extensions)) return formatted;
  const { stacktrace: _omitted, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

/**
 * A literal such as `first: 2147483648` fails document validation in graphql-js, which Apollo
 * codes GRAPHQL_VALIDATION_FAILED; for the client it is a bad argument value like any other.
 */
function reclassifyValueErrors(formatted: GraphQLFormattedError): GraphQLFormattedError {
  // graphql-scalars names the scalar and the bad value but not the form it wants.
  if (/DateTime cannot represent/.test(formatted.message) && !formatted.message.includes('expected form')) {
    formatted = { ...formatted, message: `${formatted.message} (expected form: an ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00Z)` };
  }
  if (formatted.extensions?.['code'] !== 'GRAPHQL_VALIDATION_FAILED') return formatted;
  if (!/cannot represent|Expected value of type|is not a valid/i.test(formatted.message)) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BadUserInput } };
}
