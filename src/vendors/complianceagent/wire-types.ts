/**
 * ComplianceAgent Audit API JSON as documented (seed: josedab/complianceagent `website/docs/api/audit.md`,
 * the only specification of these endpoints). Every success body is `{success: true, data, pagination?}`.
 * Entries as received may leave out or `null` any field; the normaliser reads them through
 * `ReceivedLogEntry` and needs only `id` and `timestamp`.
 */

/** The ten event types the API documentation lists (docs/vendors/complianceagent.md). */
export const COMPLIANCE_AGENT_EVENT_TYPES = [
  'scan.started',
  'scan.completed',
  'issue.created',
  'issue.updated',
  'issue.resolved',
  'fix.generated',
  'fix.applied',
  'config.changed',
  'access.granted',
  'access.revoked',
] as const;
export type RawEventType = (typeof COMPLIANCE_AGENT_EVENT_TYPES)[number];

export interface RawActor {
  type: 'user' | 'system' | string;
  id: string;
  email?: string | null;
  /** Single-entry form in the documentation; the simulator sends it in both forms. */
  name?: string | null;
}

/** `type`, `id` plus type-specific keys (`name`, `issue_id`, …). */
export interface RawResource {
  type: string;
  id: string;
  name?: string | null;
  [key: string]: unknown;
}

export interface RawRepository {
  id: string;
  /** `org/repo`. */
  name: string;
}

/**
 * A log entry in the list form of `GET /audit/logs`: request metadata at the top level. The documentation's
 * list form omits `hash`/`previous_hash`; this project lets the list form carry them (used when present),
 * and the simulator also sends `session_id`/`request_id` there so the list form is the whole entry.
 */
export interface RawAuditLogEntry {
  id: string;
  event_type: string;
  actor: RawActor;
  resource?: RawResource | null;
  repository?: RawRepository | null;
  details?: Record<string, unknown> | null;
  ip_address?: string | null;
  user_agent?: string | null;
  session_id?: string | null;
  request_id?: string | null;
  /** ISO 8601 UTC. */
  timestamp: string;
  /** `sha256:<hex>`. */
  hash?: string | null;
  /** `sha256:<hex>`, null for the first entry of the organisation's chain. */
  previous_hash?: string | null;
}

/** `GET /audit/logs/{id}`: the request metadata sits under `metadata`. */
export interface RawAuditLogSingleEntry extends Omit<RawAuditLogEntry, 'ip_address' | 'user_agent' | 'session_id' | 'request_id'> {
  metadata?: {
    ip_address?: string | null;
    user_agent?: string | null;
    session_id?: string | null;
    request_id?: string | null;
  } | null;
}

export interface RawPagination {
  page: number;
  limit: number;
  total: number;
}

export interface RawEnvelope<T> {
  success: true;
  data: T;
  pagination?: RawPagination;
}

export interface RawErrorEnvelope {
  success: false;
  error: { code: string; message: string; details?: Record<string, unknown> | null };
  meta: { request_id: string; timestamp: string };
}

/** `POST /audit/evidence/export` body. */
export interface RawEvidenceExportRequest {
  format: 'zip';
  framework: string;
  audit_period: { from: string; to: string };
  include?: string[];
  repository_ids?: string[];
}

/** The contents an evidence package may include (documentation order). */
export const EVIDENCE_INCLUDES = [
  'compliance_reports',
  'scan_results',
  'issue_history',
  'fix_records',
  'access_logs',
  'configuration_history',
] as const;
export type RawEvidenceInclude = (typeof EVIDENCE_INCLUDES)[number];

/** Export job, both while processing and once completed. */
export interface RawEvidenceExportJob {
  job_id: string;
  status: 'processing' | 'completed' | 'failed' | 'expired' | string;
  estimated_size_mb?: number;
  estimated_completion?: string;
  download_url?: string;
  expires_at?: string;
  file_size_mb?: number;
  files_included?: number;
  created_at?: string;
  completed_at?: string;
}

export interface RawVerifyRequest {
  from?: string;
  to?: string;
  repository_id?: string;
}

export interface RawVerifyResult {
  verified: boolean;
  logs_checked: number;
  chain_valid: boolean;
  hash_mismatches: number;
  gaps_detected: number;
  verification_hash: string | null;
  verified_at: string;
}

export interface RawStatistics {
  period: { from: string | null; to: string | null };
  total_events: number;
  events_by_type: Record<string, number>;
  events_by_repository: Record<string, number>;
  events_by_actor_type: Record<string, number>;
  top_actors: { actor: string; event_count: number }[];
}

export interface RawSearchResult {
  results: { id: string; event_type: string; highlight: string; score: number; timestamp: string }[];
  total: number;
}

export interface RawRetentionRule {
  retention_days?: number;
  archive_after_days?: number;
}

export interface RawRetention {
  policy: { audit_logs?: RawRetentionRule; scan_results?: RawRetentionRule; evidence_exports?: RawRetentionRule };
  storage_used_gb: number;
  oldest_log: string | null;
}

export interface RawHistory {
  metric: 'score' | 'issues' | 'fixes' | string;
  interval: 'day' | 'week' | 'month' | string;
  data_points: { period_start: string; period_end: string; value: number; change: number | null }[];
  summary: { start_value: number | null; end_value: number | null; total_change: number | null; trend: 'improving' | 'declining' | 'stable' | string };
}

export interface RawSoc2EvidenceItem {
  id: string;
  type: string;
  title: string;
  description?: string;
  date?: string;
  date_range?: { from: string; to: string };
  record_count?: number;
  artifacts?: { name: string; url: string }[];
}

export interface RawSoc2Evidence {
  /** Null when every criterion was asked for (no `criteria` parameter). */
  criteria: string | null;
  evidence_items: RawSoc2EvidenceItem[];
}
