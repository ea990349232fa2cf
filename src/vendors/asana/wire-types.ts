/**
 * Asana Audit Log API JSON as documented (`GET /workspaces/{workspace_gid}/audit_log_events`;
 * schemas `AuditLogEvent*`, `NextPage` and `ErrorResponse` of Asana's OpenAPI spec, see
 * docs/vendors/asana.md). The spec marks no property of an event as required, so every field
 * is optional here, and the normaliser reads each one as "some JSON value" before trusting it.
 */

/** `actor.actor_type`: the five kinds of actor Asana documents. */
export const ASANA_ACTOR_TYPES = ['user', 'asana', 'asana_support', 'anonymous', 'external_administrator'] as const;
export type RawAsanaActorType = (typeof ASANA_ACTOR_TYPES)[number];

/** `context.context_type`. */
export type RawAsanaContextType = 'web' | 'desktop' | 'mobile' | 'asana_support' | 'asana' | 'email' | 'api';

/** `context.api_authentication_method`; only present when `context_type` is `api`. */
export type RawAsanaAuthMethod = 'cookie' | 'oauth' | 'personal_access_token' | 'service_account';

/** Who did it. `gid`, `name` and `email` are documented "if it is a user". */
export interface RawAsanaActor {
  actor_type?: RawAsanaActorType | string | null;
  gid?: string | null;
  name?: string | null;
  email?: string | null;
}

/** What it was done to. */
export interface RawAsanaResource {
  resource_type?: string | null;
  /** e.g. `milestone`; most resources have none. */
  resource_subtype?: string | null;
  gid?: string | null;
  name?: string | null;
  /** Only for resources that have one, e.g. users. */
  email?: string | null;
}

/** Where it came from. */
export interface RawAsanaContext {
  context_type?: RawAsanaContextType | string | null;
  api_authentication_method?: RawAsanaAuthMethod | string | null;
  client_ip_address?: string | null;
  user_agent?: string | null;
  /** Only when `api_authentication_method` is `oauth`. */
  oauth_app_name?: string | null;
  /** The automation rule that caused the event. */
  rule_name?: string | null;
  /** The user who asked Asana support for the change: an integer in the spec, unlike every other gid. */
  on_behalf_of_user_id?: number | null;
}

/** Event-specific metadata; `additionalProperties: true`. */
export interface RawAsanaDetails {
  old_value?: string | null;
  new_value?: string | null;
  [key: string]: unknown;
}

/** One `data[]` element. */
export interface RawAsanaAuditLogEvent {
  gid?: string;
  /** RFC 3339, in practice UTC with milliseconds, e.g. `2021-01-01T00:00:00.000Z`. */
  created_at?: string;
  event_type?: string | null;
  event_category?: string | null;
  actor?: RawAsanaActor | null;
  resource?: RawAsanaResource | null;
  context?: RawAsanaContext | null;
  details?: RawAsanaDetails | null;
}

/** Where the next page starts; `uri` and `path` repeat the request with `offset` set. */
export interface RawAsanaNextPage {
  offset: string;
  path: string;
  uri: string;
}

/** The list body. `next_page` is null only when nothing matched the filters at all. */
export interface RawAsanaAuditLogEventList {
  data: RawAsanaAuditLogEvent[];
  next_page: RawAsanaNextPage | null;
}

/** Every error status: `phrase` only on 500s. */
export interface RawAsanaErrorBody {
  errors: { message: string; help?: string; phrase?: string }[];
}
