/**
 * Agilicus AuditsApi JSON as documented (the models of the agilicus Python SDK 1.405.8, an OpenAPI
 * client; OpenAPI document 2026.01.23). Every record field is optional: older SDKs had an 8-field
 * `Audit`, and both models allow extra keys. Records as received may also hold `null` or a value
 * of another type anywhere; the normaliser reads those as absent (see `AgilicusReceived`).
 * Neither record kind has an id field.
 */

/** One element of `GET /v1/audits` `audits[]`: a record written by any API. */
export interface RawAgilicusAudit {
  user_id?: string;
  org_id?: string;
  /** ISO-8601 date-time, UTC. */
  time?: string;
  /** The action on the target, a CREATE-style verb. */
  action?: string;
  source_ip?: string;
  target_id?: string;
  target_resource_type?: string;
  api_name?: string;
  token_id?: string;
  trace_id?: string;
  session?: string;
  secondary_id?: string;
  tertiary_id?: string;
  parent_id?: string;
  grandparent_id?: string;
}

/** One element of `GET /v1/auth_audits` `auth_audits[]`: a record of the authentication pipeline. */
export interface RawAgilicusAuthAudit {
  user_id?: string;
  upstream_user_id?: string;
  org_id?: string;
  org_name?: string;
  /** ISO-8601 date-time, UTC. */
  time?: string;
  /** Deprecated; replaced by `result`. */
  event?: string;
  /** e.g. `Authentication Request`, `Policy Evaluation`, `Token`. */
  event_name?: string;
  source_ip?: string;
  token_id?: string;
  trace_id?: string;
  session?: string;
  issuer?: string;
  /** The IssuerClient `name` presented, not its id. */
  client_id?: string;
  application_name?: string;
  login_org_id?: string;
  login_org_name?: string;
  upstream_idp?: string;
  /** Deprecated; replaced by `event_name`. */
  stage?: string;
  /** e.g. `Success`, `InProgress`, `Failure`, `Denied`, `Timeout`. */
  result?: string;
  user_agent?: string;
  /** Links every record of one login attempt. */
  request_id?: string;
}

/** `GET /v1/audits` body; the list may be absent when empty. */
export interface RawAgilicusAuditList {
  limit: number;
  audits?: RawAgilicusAudit[];
}

/** `GET /v1/auth_audits` body; the list may be absent when empty. */
export interface RawAgilicusAuthAuditList {
  limit: number;
  auth_audits?: RawAgilicusAuthAudit[];
}

/** `ErrorMessage`, the error body used across the Agilicus API. */
export interface RawAgilicusError {
  error_code: string;
  error_message: string;
}
