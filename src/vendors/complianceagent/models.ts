import type { ActorType } from '../../models/audit-event';

/**
 * Vendor-specific records that the ComplianceAgent datasource's extra methods return. Plain data,
 * shaped after the GraphQL types in `schema/evidence.graphql`, `statistics.graphql` and
 * `search.graphql` so resolvers can map them field by field. Times are ms since the epoch (UTC);
 * calendar dates are `YYYY-MM-DD` strings.
 */

export type EvidenceExportStatus = 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'EXPIRED';

/** What an evidence package may contain (GraphQL `EvidenceContent`). */
export type EvidenceContent =
  | 'COMPLIANCE_REPORTS'
  | 'SCAN_RESULTS'
  | 'ISSUE_HISTORY'
  | 'FIX_RECORDS'
  | 'ACCESS_LOGS'
  | 'CONFIGURATION_HISTORY';

/** Input of `startEvidenceExport`. */
export interface StartEvidenceExportInput {
  /** Only `ZIP` exists; default `ZIP`. */
  format?: 'ZIP';
  /** Compliance framework, e.g. `soc2`. */
  framework: string;
  /** Inclusive calendar dates, `YYYY-MM-DD`. */
  auditPeriod: { from: string; to: string };
  /** Default: everything. */
  include?: readonly EvidenceContent[];
  repositoryIds?: readonly string[];
}

/** An evidence export job at the vendor. */
export interface EvidenceExportModel {
  sourceId: string;
  jobId: string;
  status: EvidenceExportStatus;
  estimatedSizeMb: number | null;
  estimatedCompletionMs: number | null;
  downloadUrl: string | null;
  expiresAtMs: number | null;
  fileSizeMb: number | null;
  filesIncluded: number | null;
  createdAtMs: number | null;
  completedAtMs: number | null;
}

/** The upstream's verdict on its hash chain over `[fromMs, toMs)`. */
export interface IntegrityVerificationModel {
  sourceId: string;
  fromMs: number | null;
  toMs: number | null;
  repositoryId: string | null;
  verified: boolean;
  logsChecked: number;
  chainValid: boolean;
  hashMismatches: number;
  gapsDetected: number;
  verificationHash: string | null;
  verifiedAtMs: number;
}

export interface KeyCountModel {
  key: string;
  count: number;
}

/** `GET /audit/statistics`, counted by the vendor. */
export interface ComplianceStatisticsModel {
  sourceId: string;
  fromMs: number | null;
  toMs: number | null;
  totalEvents: number;
  /** By event type (= normalised action), largest first. */
  byEventType: KeyCountModel[];
  /** By repository name (`org/repo`), largest first. */
  byRepository: KeyCountModel[];
  byActorType: { actorType: ActorType; count: number }[];
  /** `actor` is an email, or an id for actors without one. */
  topActors: { actor: string; count: number }[];
}

export type SearchField = 'ALL' | 'DETAILS' | 'ACTOR';

/** One search hit; the event itself can be fetched with `getEvent`. */
export interface SearchHitModel {
  sourceId: string;
  sourceEventId: string;
  action: string;
  occurredAtMs: number;
  /** Matching text with matches in `<em>`, as the vendor marks them (text HTML-escaped by the vendor). */
  highlight: string | null;
  /** Relevance, 0 to 1. */
  score: number | null;
}

export interface SearchResultModel {
  hits: SearchHitModel[];
  /** All matches at the vendor, not only those returned. */
  total: number;
}

export interface RetentionRuleModel {
  retentionDays: number | null;
  archiveAfterDays: number | null;
}

export interface RetentionPolicyModel {
  sourceId: string;
  auditLogs: RetentionRuleModel | null;
  scanResults: RetentionRuleModel | null;
  evidenceExports: RetentionRuleModel | null;
  storageUsedGb: number | null;
  oldestLogMs: number | null;
}

export type ComplianceMetric = 'SCORE' | 'ISSUES' | 'FIXES';
export type HistoryInterval = 'DAY' | 'WEEK' | 'MONTH';
export type ComplianceTrend = 'IMPROVING' | 'DECLINING' | 'STABLE';

export interface ComplianceHistoryModel {
  sourceId: string;
  metric: ComplianceMetric;
  interval: HistoryInterval;
  dataPoints: { periodStart: string; periodEnd: string; value: number; change: number | null }[];
  summary: { startValue: number | null; endValue: number | null; totalChange: number | null; trend: ComplianceTrend | null };
}

export interface Soc2EvidenceItemModel {
  id: string;
  type: string;
  title: string;
  description: string | null;
  date: string | null;
  dateRange: { from: string; to: string } | null;
  recordCount: number | null;
  artifacts: { name: string; url: string }[];
}

export interface Soc2EvidenceModel {
  sourceId: string;
  /** Null when evidence for every criterion was asked for. */
  criteria: string | null;
  items: Soc2EvidenceItemModel[];
}
