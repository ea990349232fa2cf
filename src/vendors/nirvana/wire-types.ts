/**
 * A Nirvana Labs audit log entry as the current API documents it (nirvana-go `AuditLog`, v1.74
 * to v1.94.2): every field required but `target`. This is what the simulator sends; entries read
 * from an upstream are not trusted to match it (`action` and `target` arrived in v1.58,
 * `actor.name` in v1.69), so `parseNirvanaAuditLog` reads them as unknown JSON.
 */
export interface RawNirvanaAuditLog {
  id: string;
  action?: string;
  actor: { id: string; name?: string; type: 'user' | 'api_key' | string };
  client_ip: string;
  created_at: string;
  method: string;
  path: string;
  status_code: number;
  user_agent: string;
  /** Absent or null when the audited request had no target. */
  target?: { id: string; type: string } | null;
}

/** `GET /v1/audit_logs` body. Cursors may be null, empty or missing at the ends. */
export interface RawNirvanaAuditLogList {
  items: RawNirvanaAuditLog[];
  pagination?: {
    next_cursor?: string | null;
    previous_cursor?: string | null;
    total_count?: number;
  } | null;
}
