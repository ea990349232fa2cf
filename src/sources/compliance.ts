import type { ActorType, AuditEventModel, EventCategory } from '../models/audit-event';

/**
 * The optional operations a datasource may offer besides its audit log (evidence packages, hash
 * chain checks, compliance history, retention policy, SOC 2 evidence, the vendor's own search and
 * statistics), and the vendor-neutral records they answer with. A datasource that offers one
 * sets the matching member of `AuditDataSource` (see `SOURCE_OPERATIONS` in `data-source.ts`);
 * the GraphQL glue only ever sees these interfaces, never a vendor.
 *
 * Records are plain data, shaped after the GraphQL types of `schema/evidence.graphql`: times are
 * ms since the epoch (UTC), calendar dates `YYYY-MM-DD` strings, and every value is as the
 * vendor gave it (null where it gave none), never filled in by the gateway.
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

/** Input of an evidence package job. */
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

/** The vendor's verdict on its hash chain over `[fromMs, toMs)`. */
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
  /** Null when the vendor's answer carries no readable time: never the gateway's clock. */
  verifiedAtMs: number | null;
}

/** A window of a hash chain to check: `[fromMs, toMs)` (null = unbounded), one repository or all. */
export interface IntegrityWindow {
  fromMs: number | null;
  toMs: number | null;
  repositoryId: string | null;
}

/** What is wrong at one position of a re-walked chain. */
export type ChainProblemKind =
  /** The entry's content does not hash to its stored hash: it was changed. */
  | 'HASH_MISMATCH'
  /** The entry carries no usable stored hash. */
  | 'MISSING_HASH'
  /** The entry has no id or no readable time, so it cannot be listed (it is still checked). */
  | 'UNPLACEABLE'
  /** The entry's `previous_hash` names no entry before it: entries are missing just before it. */
  | 'MISSING_RECORD'
  /** The entry does not belong here: the entry after it links past it. */
  | 'INSERTED_RECORD'
  /** The entry's `previous_hash` names a later entry: entries were swapped or moved. */
  | 'REORDERED'
  /** The entry's time is older than the one before it. */
  | 'OUT_OF_ORDER';

/** Problems whose entry's content is not what was hashed. */
export const MISMATCH_KINDS: ReadonlySet<ChainProblemKind> = new Set(['HASH_MISMATCH', 'MISSING_HASH']);
/** Problems of a broken `previous_hash` link. */
export const BROKEN_LINK_KINDS: ReadonlySet<ChainProblemKind> = new Set(['MISSING_RECORD', 'INSERTED_RECORD', 'REORDERED']);

/** One problem of a re-walked chain, and the entry it names. */
export interface ChainProblemModel {
  kind: ChainProblemKind;
  /** Position in the walked window, oldest entry 0; every entry the vendor listed counts. */
  position: number;
  /** The entry's id at the vendor; null when it has none. */
  sourceEventId: string | null;
  /** The entry as an event; null when it cannot be placed (no id or readable time). */
  event: AuditEventModel | null;
  /** The hash the vendor stored with the entry. */
  storedHash: string | null;
  /** The hash the gateway computes from the entry's content. */
  computedHash: string | null;
  /** The entry's link to the one before it, as stored. */
  previousHash: string | null;
}

/** The gateway's own walk of a hash chain: every entry re-hashed, every link checked. */
export interface ChainRewalkModel {
  valid: boolean;
  entriesChecked: number;
  hashMismatches: number;
  gapsDetected: number;
  unplaceableEntries: number;
  /** Digest over the checked entries' stored hashes, oldest first (comparable with the vendor's). */
  verificationHash: string;
  /** The hash the window's first entry had to link to (the entry just before it); null at the chain's start. */
  anchorHash: string | null;
  /** Every problem, in chain order; at most 1,000 kept. */
  problems: ChainProblemModel[];
  /** The first entry whose content does not match its stored hash, even beyond the problems kept. */
  firstMismatch: ChainProblemModel | null;
  /** The first broken link, even beyond the problems kept. */
  firstMissingLink: ChainProblemModel | null;
  /** Upstream requests the walk cost. */
  upstreamRequests: number;
}

export interface KeyCountModel {
  key: string;
  count: number;
}

/**
 * Statistics counted by the vendor over `[fromMs, toMs)`, of the same events `listEvents` lists
 * for that window: the gateway answers `auditStatistics` from them instead of reading the log
 * when they hold what was asked.
 */
export interface ComplianceStatisticsModel {
  sourceId: string;
  fromMs: number | null;
  toMs: number | null;
  totalEvents: number;
  /** By event type (= normalised action), largest first. */
  byEventType: KeyCountModel[];
  /** By normalised category, as the datasource's normaliser derives it from each event type, largest first. */
  byCategory: { category: EventCategory; count: number }[];
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

/** Input of a compliance history; times `[fromMs, toMs)`, null = the vendor's default. */
export interface ComplianceHistoryInput {
  metric: ComplianceMetric;
  interval: HistoryInterval;
  repositoryId?: string | null;
  framework?: string | null;
  fromMs?: number | null;
  toMs?: number | null;
}

export interface ComplianceHistoryModel {
  sourceId: string;
  /** The metric and interval the vendor says it answered with. */
  metric: ComplianceMetric;
  interval: HistoryInterval;
  /** `periodEnd` is the last day of the period, inclusive. */
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
  /** Empty when the vendor lists none. */
  artifacts: { name: string; url: string }[];
}

/** Input of SOC 2 evidence: one criterion or all (null), over an audit period of calendar dates (null = the vendor's default). */
export interface Soc2EvidenceInput {
  criteria?: string | null;
  auditPeriodStart?: string | null;
  auditPeriodEnd?: string | null;
}

export interface Soc2EvidenceModel {
  sourceId: string;
  /** Null when evidence for every criterion was asked for. */
  criteria: string | null;
  items: Soc2EvidenceItemModel[];
}

/** Evidence package jobs at the vendor. */
export interface EvidenceExportOperations {
  /** Starts a job; never retried, since a retry after a lost answer would start a second one. */
  start(input: StartEvidenceExportInput, signal: AbortSignal): Promise<EvidenceExportModel>;
  /** A job's status; null for a job the vendor does not know. */
  get(jobId: string, signal: AbortSignal): Promise<EvidenceExportModel | null>;
}

/** Checks of the source's hash chain: the vendor's verdict, and the gateway's own walk. */
export interface IntegrityVerificationOperations {
  /** The vendor's own verification of the window. */
  vendorVerdict(window: IntegrityWindow, signal: AbortSignal): Promise<IntegrityVerificationModel>;
  /**
   * Reads every entry of the window and checks it without trusting the vendor's verdict.
   * Refuses (BAD_USER_INPUT, ARGUMENT_OUT_OF_RANGE) a window of more than `maxEntries` entries
   * before reading it.
   */
  rewalk(window: IntegrityWindow, options: { maxEntries: number }, signal: AbortSignal): Promise<ChainRewalkModel>;
}

export interface ComplianceHistoryOperations {
  history(input: ComplianceHistoryInput, signal: AbortSignal): Promise<ComplianceHistoryModel>;
}

export interface RetentionPolicyOperations {
  /** The policy as the vendor states it now (not cached). */
  policy(signal: AbortSignal): Promise<RetentionPolicyModel>;
}

export interface Soc2EvidenceOperations {
  evidence(input: Soc2EvidenceInput, signal: AbortSignal): Promise<Soc2EvidenceModel>;
}

/**
 * The parts of an event a search term can be aimed at (`actor:alice`); `any` is a term without a
 * prefix. The gateway matches a term as lower-cased text occurring in one value of the part:
 * - `action`: the action;
 * - `actor`: the actor's name, email, id, application, automation;
 * - `target`: the target's name, id, type, subtype, email;
 * - `details`: any string, number or boolean anywhere in the details (values, not keys);
 * - `request`: the client address, user agent, HTTP method, path, session, trace and request
 *   ids, origin; `ip`, `session`, `agent` and `path` one of them each;
 * - `repository`: the repository's name or id;
 * - `any`: any of the above.
 */
export type SearchPart = 'any' | 'action' | 'actor' | 'target' | 'details' | 'request' | 'ip' | 'session' | 'agent' | 'path' | 'repository';

/** One search term, as the gateway asks a vendor for the events it may match. */
export interface SearchCandidatesInput {
  /** Lower-cased. */
  text: string;
  part: SearchPart;
  /** The window, `[fromMs, toMs)`; null = unbounded. */
  fromMs: number | null;
  toMs: number | null;
}

/** Events a vendor's search found for a term, and what finding them cost. */
export interface SearchCandidates {
  /**
   * Null when the vendor's search cannot promise every event the term may match (a part it does
   * not search, more hits than it returns at once): the gateway then reads the source itself.
   */
  events: AuditEventModel[] | null;
  upstreamRequests: number;
}

/** The vendor's own full-text search (it ranks; it does not filter as the gateway does). */
export interface NativeSearchOperations {
  /** `limit` and `fromMs`/`toMs` are passed on where the vendor takes them. */
  search(input: { query: string; fields?: SearchField; limit?: number; fromMs?: number | null; toMs?: number | null }, signal: AbortSignal): Promise<SearchResultModel>;
  /**
   * Every event of the window in which the term may occur as the gateway matches it (see
   * {@link SearchPart}): a superset is fine, the gateway checks each event, but none may be
   * missing (see {@link SearchCandidates} for when the vendor cannot promise that).
   */
  candidates?(input: SearchCandidatesInput, signal: AbortSignal): Promise<SearchCandidates>;
}

/** Statistics the vendor counts itself. */
export interface NativeStatisticsOperations {
  statistics(input: { fromMs?: number | null; toMs?: number | null }, signal: AbortSignal): Promise<ComplianceStatisticsModel>;
}
