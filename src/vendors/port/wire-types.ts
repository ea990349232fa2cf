/**
 * Port audit log JSON as sent by the real API (`GET /v1/audit-log`, `POST /v1/auth/access_token`),
 * as Port's OpenAPI spec, its documentation's event examples and its own exporter read it. The
 * PyPort SDK's shapes (`id`, `timestamp`, `user{…}`) do not exist.
 *
 * Port's payloads use `null` freely (`"icon": null`, `"propertyIdentifier": null`, `"before": null`),
 * so every field but `identifier` and `trigger.at` is typed as possibly null or absent, and the
 * normaliser treats the two alike (see `normalize.ts`).
 */

/** The `resources` enum of `GET /v1/audit-log` (`integration` is beta upstream). */
export const PORT_RESOURCE_TYPES = ['blueprint', 'entity', 'run', 'webhook', 'scorecard', 'action', 'integration'] as const;
export type PortResourceType = (typeof PORT_RESOURCE_TYPES)[number];

/** The `action` query values; records may also carry other operations (timers write `TIMER_EXPIRED`). */
export const PORT_ACTIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;
export type PortAction = (typeof PORT_ACTIONS)[number];

/** Who made a change: a user or machine client of one organisation, or Port itself. */
export interface RawPortTriggerBy {
  orgId?: string | null;
  /** `auth0|…`-style user ids, or `…@clients` for machine (client-credentials) callers; absent for Port itself. */
  userId?: string | null;
  /** Set on changes Port made itself (timer expiry). */
  byPort?: boolean | null;
}

/** One audit log record. Presence of most fields depends on `resourceType` and on `includes`. */
export interface RawPortAuditLog {
  /** The record's id (usable with `?identifier=`); a record without one cannot be told apart from others. */
  identifier: string;
  action?: PortAction | string | null;
  resourceType?: PortResourceType | string | null;
  status?: 'SUCCESS' | 'FAILURE' | string | null;
  trigger: {
    by?: RawPortTriggerBy | null;
    /** `UI`, `API`, `AUTOMATION`, or the name of the integration that made the change. */
    origin?: string | null;
    /** ISO 8601 with milliseconds, UTC in the API (`Z`), an offset in some examples: the only timestamp, used for windows and order. */
    at: string;
  };
  /**
   * Ids of what was touched; keys vary by resource (`entity`, `blueprint`, `entityIdentifier`,
   * `blueprintIdentifier`, `runId`, `webhookId`, …) and a value may be null or an object (a run's `action`).
   */
  context?: Record<string, unknown> | null;
  /** The resource before (null on CREATE) and after (null on DELETE) the change. */
  diff?: { before?: unknown; after?: unknown } | null;
  /** Diagnostic text, mostly on failures. */
  message?: string | null;
  additionalData?: Record<string, unknown> | null;
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
