import type { JsonObject, JsonValue } from './json';

/** The vendors the gateway speaks to; each has a folder under `src/vendors/`. */
export const VENDORS = ['port', 'nirvana', 'agilicus', 'complianceagent', 'asana'] as const;
export type Vendor = (typeof VENDORS)[number];

/** Normalised event categories; mirrors the GraphQL enum `EventCategory`. */
export type EventCategory =
  | 'AUTHENTICATION'
  | 'ACCESS'
  | 'DATA'
  | 'CONFIGURATION'
  | 'ADMIN'
  | 'COMPLIANCE'
  | 'SECURITY'
  | 'OTHER';

/** Normalised actor kinds; mirrors the GraphQL enum `ActorType`. */
export type ActorType =
  | 'USER'
  | 'API_KEY'
  | 'SERVICE_ACCOUNT'
  | 'SYSTEM'
  | 'VENDOR_SUPPORT'
  | 'ANONYMOUS'
  | 'UNKNOWN';

/** Who performed an action, within one source. */
export interface ActorModel {
  sourceId: string;
  /** The vendor's id for the actor; null for actors without one (system, anonymous). */
  sourceActorId: string | null;
  type: ActorType;
  name: string | null;
  email: string | null;
  /** The actor's organisation at the vendor, where it records one (e.g. Port's `trigger.by.orgId`). */
  organizationId?: string | null;
  /** The application the actor acted through, e.g. an OAuth app. */
  application?: string | null;
  /** The automation (a rule, a workflow) that performed the action for the actor. */
  automation?: string | null;
  /** The actor on whose behalf this one acted (e.g. a user who asked vendor support for a change). */
  onBehalfOf?: ActorModel | null;
}

/** What an action was performed on, within one source. */
export interface TargetModel {
  sourceId: string;
  sourceTargetId: string;
  type: string;
  name: string | null;
  /** The vendor's finer kind of resource (e.g. Asana's `milestone` task). */
  subtype?: string | null;
  /** The resource's email, where it has one (e.g. a user acted on). */
  email?: string | null;
}

/** The request or session that produced an event; every field is optional at every vendor. */
export interface RequestContextModel {
  clientIp: string | null;
  userAgent: string | null;
  httpMethod: string | null;
  path: string | null;
  statusCode: number | null;
  sessionId: string | null;
  traceId: string | null;
  requestId: string | null;
  origin: string | null;
}

/** The code repository an event concerns, where the vendor records one (ComplianceAgent). */
export interface RepositoryModel {
  sourceRepositoryId: string;
  /** E.g. `org/repo`; null when the record gives only the id. */
  name: string | null;
}

/** Hash-chain fields of a tamper-evident log. */
export interface IntegrityModel {
  hash: string | null;
  previousHash: string | null;
}

/**
 * One audit event, normalised. The gateway's total order over events is
 * (occurredAtMs, sourceId, sourceEventId); see `federation/order.ts`.
 */
export interface AuditEventModel {
  sourceId: string;
  vendor: Vendor;
  sourceEventId: string;
  action: string;
  category: EventCategory;
  /** Milliseconds since the epoch (UTC). Vendors with finer precision are truncated; ties are broken by id. */
  occurredAtMs: number;
  actor: ActorModel;
  target: TargetModel | null;
  request: RequestContextModel | null;
  repository: RepositoryModel | null;
  details: JsonValue | null;
  integrity: IntegrityModel | null;
  /** True when the vendor marks the action as failed or denied; null when it does not say. */
  failed: boolean | null;
  /** The vendor's record exactly as received. */
  raw: JsonObject;
  /** The global id, memoised by `eventGlobalId` when first asked for; normalisers leave it unset. */
  globalId?: string;
}

/** An empty request context, for normalisers to fill in. */
export function emptyRequestContext(): RequestContextModel {
  return {
    clientIp: null,
    userAgent: null,
    httpMethod: null,
    path: null,
    statusCode: null,
    sessionId: null,
    traceId: null,
    requestId: null,
    origin: null,
  };
}
