/**
 * Asana Audit Log API JSON as sent (`GET /workspaces/{workspace_gid}/audit_log_events`; schemas
 * `AuditLogEvent*`, `NextPage` and `ErrorResponse` of Asana's OpenAPI spec; see shared/vendors/asana.md).
 */

/** `actor.actor_type`: the five kinds of actor Asana documents. */
export const ASANA_ACTOR_TYPES = ['user', 'asana', 'asana_support', 'anonymous', 'external_administrator'] as const;
export type RawAsanaActorType = (typeof ASANA_ACTOR_TYPES)[number];

/** `context.context_type`. */
export type RawAsanaContextType = 'web' | 'desktop' | 'mobile' | 'asana_support' | 'asana' | 'email' | 'api';

/** `context.api_authentication_method`; only present when `context_type` is `api`. */
export type RawAsanaAuthMethod = 'cookie' | 'oauth' | 'personal_access_token' | 'service_account';

/** Who did it. `gid`, `name` and `email` are only sent for actors that are people. */
export interface RawAsanaActor {
  actor_type: RawAsanaActorType | string;
  gid?: string;
  name?: string;
  email?: string;
}

/** What it was done to. */
export interface RawAsanaResource {
  resource_type: string;
  /** e.g. `milestone`; most resources have none. */
  resource_subtype?: string;
  gid: string;
  name?: string | null;
  /** Only for resources that have one, e.g. users. */
  email?: string;
}

/** Where it came from. */
export interface RawAsanaContext {
  context_type?: RawAsanaContextType | string;
  api_authentication_method?: RawAsanaAuthMethod | string;
  client_ip_address?: string;
  user_agent?: string;
  /** Only when `api_authentication_method` is `oauth`. */
  oauth_app_name?: string;
  /** The automation rule that caused the event. */
  rule_name?: string;
  /** The user who asked Asana support for the change. */
  on_behalf_of_user_id?: number;
}

/** One `data[]` element. `details` varies by `event_type`. */
export interface RawAsanaAuditLogEvent {
  gid: string;
  /** ISO 8601 with milliseconds, e.g. `2021-01-01T00:00:00.000Z`. */
  created_at: string;
  event_type: string;
  event_category?: string;
  actor: RawAsanaActor;
  resource?: RawAsanaResource;
  context?: RawAsanaContext;
  details?: { old_value?: string | null; new_value?: string | null; [key: string]: unknown };
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
