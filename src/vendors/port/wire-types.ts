/**
 * Port audit log JSON as sent by the real API (`GET /v1/audit-log`, `POST /v1/auth/access_token`),
 * as Port's OpenAPI spec and its own exporter read it. The seed's PyPort shapes (`id`, `timestamp`,
 * `user{…}`) do not exist.
 */

/** The `resources` enum of `GET /v1/audit-log` (`integration` is beta upstream). */
export const PORT_RESOURCE_TYPES = ['blueprint', 'entity', 'run', 'webhook', 'scorecard', 'action', 'integration'] as const;
export type PortResourceType = (typeof PORT_RESOURCE_TYPES)[number];

/** The `action` query values; records may also carry other operations (the UI shows "Timer Expired"). */
export const PORT_ACTIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;
export type PortAction = (typeof PORT_ACTIONS)[number];

/** One audit log record. Presence of most fields depends on `resourceType` and on `includes`. */
export interface RawPortAuditLog {
  identifier: string;
  action?: PortAction | string;
  resourceType?: PortResourceType | string;
  status?: 'SUCCESS' | 'FAILURE' | string;
  trigger: {
    by?: {
      orgId?: string;
      /** `auth0|…`-style user ids, or `…@clients` for machine (client-credentials) callers; absent for Port itself. */
      userId?: string;
    };
    /** `UI`, `API`, or the name of the integration that made the change. */
    origin?: string;
    /** ISO 8601 UTC with milliseconds: the only timestamp, used for windows and order. */
    at: string;
  };
  /** Ids of what was touched; keys vary by resource (`entity`, `blueprint`, `runId`, `webhookId`, …). */
  context?: Record<string, string | undefined>;
  diff?: { before?: unknown; after?: unknown };
  /** Diagnostic text, mostly on failures. */
  message?: string;
  additionalData?: Record<string, unknown>;
}

/** `GET /v1/audit-log` body: no count, cursor or next link. */
export interface RawPortAuditLogList {
  ok: true;
  audits: RawPortAuditLog[];
}

/** `POST /v1/auth/access_token` request body; no other keys are allowed. */
export interface RawPortTokenRequest {
  clientId: string;
  clientSecret: string;
}

/** `POST /v1/auth/access_token` 200 body. `expiresIn` is in seconds (3 hours). */
export interface RawPortTokenResponse {
  ok: true;
  accessToken: string;
  expiresIn: number;
  tokenType: string;
}

/** Every documented error body (`message` optional on 401). */
export interface RawPortError {
  ok: false;
  error: string;
  message?: string;
}
