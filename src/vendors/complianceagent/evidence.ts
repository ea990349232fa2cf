import { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../errors';
import type { UpstreamRequest, UpstreamResponse } from '../../http/upstream-client';
import type { ActorType, EventCategory } from '../../models/audit-event';
import type {
  ComplianceHistoryInput,
  ComplianceHistoryModel,
  ComplianceMetric,
  ComplianceStatisticsModel,
  ComplianceTrend,
  EvidenceExportModel,
  EvidenceExportStatus,
  HistoryInterval,
  IntegrityVerificationModel,
  KeyCountModel,
  RetentionPolicyModel,
  RetentionRuleModel,
  SearchField,
  SearchResultModel,
  Soc2EvidenceModel,
  StartEvidenceExportInput,
} from './models';
import { complianceAgentCategory } from './normalize';

/**
 * ComplianceAgent's endpoints besides the log itself: each function sends one request and narrows
 * `data` with a zod schema into a model of `models.ts`. A body of the wrong shape is refused as
 * UPSTREAM_MALFORMED_RESPONSE, as a log page would be.
 */

/** What the functions here need from the datasource: its id and its authenticated HTTP call. */
export interface ComplianceAgentApi {
  sourceId: string;
  /** `path` is relative to `/api/v1/audit`. */
  call(request: Omit<UpstreamRequest, 'headers'>): Promise<UpstreamResponse>;
}

const optionalNumber = z.number().nullish();
const optionalString = z.string().nullish();

/** The `data` of a `{success: true, data}` body, narrowed by `schema`. */
export function envelopeData<T>(sourceId: string, body: unknown, schema: z.ZodType<T>): T {
  const envelope = z.object({ success: z.literal(true), data: schema }).safeParse(body);
  if (!envelope.success) {
    throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, sourceId, {
      logDetail: { reason: 'unexpected body', issue: envelope.error.issues[0]?.path.join('.') ?? 'body' },
    });
  }
  return envelope.data.data;
}

function timeOrNull(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function isoOrUndefined(ms: number | null | undefined): string | undefined {
  return ms === null || ms === undefined ? undefined : new Date(ms).toISOString();
}

const exportJobSchema = z.object({
  job_id: z.string().min(1),
  status: z.string(),
  estimated_size_mb: optionalNumber,
  estimated_completion: optionalString,
  download_url: optionalString,
  expires_at: optionalString,
  file_size_mb: optionalNumber,
  files_included: z.number().int().nonnegative().nullish(),
  created_at: optionalString,
  completed_at: optionalString,
});

const EXPORT_STATUSES: Record<string, EvidenceExportStatus> = { processing: 'PROCESSING', pending: 'PROCESSING', queued: 'PROCESSING', completed: 'COMPLETED', failed: 'FAILED', expired: 'EXPIRED' };

function exportModel(sourceId: string, job: z.infer<typeof exportJobSchema>): EvidenceExportModel {
  const status = EXPORT_STATUSES[job.status.toLowerCase()];
  if (!status) throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, sourceId, { logDetail: { reason: 'unknown export status' } });
  return {
    sourceId,
    jobId: job.job_id,
    status,
    estimatedSizeMb: job.estimated_size_mb ?? null,
    estimatedCompletionMs: timeOrNull(job.estimated_completion),
    downloadUrl: job.download_url ?? null,
    expiresAtMs: timeOrNull(job.expires_at),
    fileSizeMb: job.file_size_mb ?? null,
    filesIncluded: job.files_included ?? null,
    createdAtMs: timeOrNull(job.created_at),
    completedAtMs: timeOrNull(job.completed_at),
  };
}

/** `POST /evidence/export`. Not retried: a retry after a lost answer would start a second job. */
export async function startEvidenceExport(api: ComplianceAgentApi, input: StartEvidenceExportInput, signal: AbortSignal): Promise<EvidenceExportModel> {
  const response = await api.call({
    method: 'POST',
    path: '/evidence/export',
    json: {
      format: (input.format ?? 'ZIP').toLowerCase(),
      framework: input.framework,
      audit_period: { from: input.auditPeriod.from, to: input.auditPeriod.to },
      ...(input.include ? { include: input.include.map((item) => item.toLowerCase()) } : {}),
      ...(input.repositoryIds ? { repository_ids: [...input.repositoryIds] } : {}),
    },
    signal,
  });
  return exportModel(api.sourceId, envelopeData(api.sourceId, response.body, exportJobSchema));
}

/** `GET /evidence/export/{job_id}`; null for an unknown job. */
export async function getEvidenceExport(api: ComplianceAgentApi, jobId: string, signal: AbortSignal): Promise<EvidenceExportModel | null> {
  const response = await api.call({ method: 'GET', path: `/evidence/export/${encodeURIComponent(jobId)}`, signal, acceptStatuses: [404] });
  if (response.status === 404) return null;
  return exportModel(api.sourceId, envelopeData(api.sourceId, response.body, exportJobSchema));
}

const verifySchema = z.object({
  verified: z.boolean(),
  logs_checked: z.number().int().nonnegative(),
  chain_valid: z.boolean(),
  hash_mismatches: z.number().int().nonnegative(),
  gaps_detected: z.number().int().nonnegative(),
  verification_hash: optionalString,
  verified_at: z.string(),
});

/** Window and scope of a verification; times in ms, `[fromMs, toMs)`. */
export interface VerifyIntegrityInput {
  fromMs?: number | null;
  toMs?: number | null;
  repositoryId?: string | null;
}

/** `POST /verify`: the upstream recomputes its chain over the window. Safe to retry: it changes nothing. */
export async function verifyIntegrity(api: ComplianceAgentApi, input: VerifyIntegrityInput, signal: AbortSignal): Promise<IntegrityVerificationModel> {
  const response = await api.call({
    method: 'POST',
    path: '/verify',
    json: { from: isoOrUndefined(input.fromMs), to: isoOrUndefined(input.toMs), repository_id: input.repositoryId ?? undefined },
    idempotent: true,
    signal,
  });
  const data = envelopeData(api.sourceId, response.body, verifySchema);
  return {
    sourceId: api.sourceId,
    fromMs: input.fromMs ?? null,
    toMs: input.toMs ?? null,
    repositoryId: input.repositoryId ?? null,
    verified: data.verified,
    logsChecked: data.logs_checked,
    chainValid: data.chain_valid,
    hashMismatches: data.hash_mismatches,
    gapsDetected: data.gaps_detected,
    verificationHash: data.verification_hash ?? null,
    // An unreadable time stays unknown: the gateway's clock is not when the vendor checked.
    verifiedAtMs: timeOrNull(data.verified_at),
  };
}

const counts = z.record(z.string(), z.number().int().nonnegative());
const statisticsSchema = z.object({
  total_events: z.number().int().nonnegative(),
  events_by_type: counts.nullish(),
  events_by_repository: counts.nullish(),
  events_by_actor_type: counts.nullish(),
  top_actors: z.array(z.object({ actor: z.string(), event_count: z.number().int().nonnegative() })).nullish(),
});

function sortedCounts(record: Record<string, number> | null | undefined): KeyCountModel[] {
  return Object.entries(record ?? {})
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

const ACTOR_TYPES: Record<string, ActorType> = { user: 'USER', system: 'SYSTEM' };

/** `GET /statistics` over `[fromMs, toMs)`. */
export async function getStatistics(api: ComplianceAgentApi, input: { fromMs?: number | null; toMs?: number | null }, signal: AbortSignal): Promise<ComplianceStatisticsModel> {
  const response = await api.call({ method: 'GET', path: '/statistics', query: { from: isoOrUndefined(input.fromMs), to: isoOrUndefined(input.toMs) }, signal });
  const data = envelopeData(api.sourceId, response.body, statisticsSchema);
  const byEventType = sortedCounts(data.events_by_type);
  // The category is a function of the event type alone (see the normaliser), so the vendor's
  // counts by type are exact counts by category too.
  const byCategory = new Map<EventCategory, number>();
  for (const { key, count } of byEventType) {
    const category = complianceAgentCategory(key);
    byCategory.set(category, (byCategory.get(category) ?? 0) + count);
  }
  const byActorType = new Map<ActorType, number>();
  for (const { key, count } of sortedCounts(data.events_by_actor_type)) {
    const type = ACTOR_TYPES[key] ?? 'UNKNOWN';
    byActorType.set(type, (byActorType.get(type) ?? 0) + count);
  }
  return {
    sourceId: api.sourceId,
    fromMs: input.fromMs ?? null,
    toMs: input.toMs ?? null,
    totalEvents: data.total_events,
    byEventType,
    byCategory: [...byCategory.entries()].map(([category, count]) => ({ category, count })).sort((x, y) => y.count - x.count || (x.category < y.category ? -1 : 1)),
    byRepository: sortedCounts(data.events_by_repository),
    byActorType: [...byActorType.entries()].map(([actorType, count]) => ({ actorType, count })),
    topActors: (data.top_actors ?? []).map((item) => ({ actor: item.actor, count: item.event_count })),
  };
}

const searchSchema = z.object({
  results: z.array(z.object({ id: z.string().min(1), event_type: z.string(), highlight: optionalString, score: optionalNumber, timestamp: z.string() })),
  total: z.number().int().nonnegative(),
});

/**
 * `GET /search`. `limit` (default 20, max 100) and `from`/`to` are simulator extensions a real
 * upstream may ignore: `total` says whether the hits returned are all of them.
 */
export async function search(
  api: ComplianceAgentApi,
  input: { query: string; fields?: SearchField; limit?: number; fromMs?: number | null; toMs?: number | null },
  signal: AbortSignal,
): Promise<SearchResultModel> {
  const response = await api.call({
    method: 'GET',
    path: '/search',
    query: { q: input.query, fields: (input.fields ?? 'ALL').toLowerCase(), limit: input.limit, from: isoOrUndefined(input.fromMs), to: isoOrUndefined(input.toMs) },
    signal,
  });
  const data = envelopeData(api.sourceId, response.body, searchSchema);
  const hits = data.results.map((hit) => {
    const occurredAtMs = timeOrNull(hit.timestamp);
    if (occurredAtMs === null) throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, api.sourceId, { logDetail: { reason: 'search hit without a timestamp' } });
    const score = hit.score ?? null;
    return { sourceId: api.sourceId, sourceEventId: hit.id, action: hit.event_type, occurredAtMs, highlight: hit.highlight ?? null, score: score === null ? null : Math.min(1, Math.max(0, score)) };
  });
  return { hits, total: data.total };
}

const ruleSchema = z.object({ retention_days: z.number().int().nonnegative().nullish(), archive_after_days: z.number().int().nonnegative().nullish() }).nullish();
const retentionSchema = z.object({
  policy: z.object({ audit_logs: ruleSchema, scan_results: ruleSchema, evidence_exports: ruleSchema }),
  storage_used_gb: optionalNumber,
  oldest_log: optionalString,
});

function ruleModel(rule: z.infer<typeof ruleSchema>): RetentionRuleModel | null {
  return rule ? { retentionDays: rule.retention_days ?? null, archiveAfterDays: rule.archive_after_days ?? null } : null;
}

/** `GET /retention`. */
export async function getRetentionPolicy(api: ComplianceAgentApi, signal: AbortSignal): Promise<RetentionPolicyModel> {
  const response = await api.call({ method: 'GET', path: '/retention', signal });
  const data = envelopeData(api.sourceId, response.body, retentionSchema);
  return {
    sourceId: api.sourceId,
    auditLogs: ruleModel(data.policy.audit_logs),
    scanResults: ruleModel(data.policy.scan_results),
    evidenceExports: ruleModel(data.policy.evidence_exports),
    storageUsedGb: data.storage_used_gb ?? null,
    oldestLogMs: timeOrNull(data.oldest_log),
  };
}

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}/);
const soc2Schema = z.object({
  criteria: optionalString,
  evidence_items: z.array(
    z.object({
      id: z.string().min(1),
      type: z.string(),
      title: z.string(),
      description: optionalString,
      date: date.nullish(),
      date_range: z.object({ from: date, to: date }).nullish(),
      record_count: z.number().int().nonnegative().nullish(),
      artifacts: z.array(z.object({ name: z.string(), url: z.string() })).nullish(),
    }),
  ),
});

/** `GET /evidence/soc2`; dates `YYYY-MM-DD`. */
export async function getSoc2Evidence(
  api: ComplianceAgentApi,
  input: { criteria?: string | null; auditPeriodStart?: string | null; auditPeriodEnd?: string | null },
  signal: AbortSignal,
): Promise<Soc2EvidenceModel> {
  const response = await api.call({
    method: 'GET',
    path: '/evidence/soc2',
    query: { criteria: input.criteria, audit_period_start: input.auditPeriodStart, audit_period_end: input.auditPeriodEnd },
    signal,
  });
  const data = envelopeData(api.sourceId, response.body, soc2Schema);
  return {
    sourceId: api.sourceId,
    criteria: data.criteria ?? null,
    items: data.evidence_items.map((item) => ({
      id: item.id,
      type: item.type,
      title: item.title,
      description: item.description ?? null,
      date: item.date?.slice(0, 10) ?? null,
      dateRange: item.date_range ? { from: item.date_range.from.slice(0, 10), to: item.date_range.to.slice(0, 10) } : null,
      recordCount: item.record_count ?? null,
      artifacts: item.artifacts ?? [],
    })),
  };
}

const historySchema = z.object({
  metric: z.string(),
  interval: z.string(),
  data_points: z.array(z.object({ period_start: date, period_end: date, value: z.number(), change: optionalNumber })),
  summary: z.object({ start_value: optionalNumber, end_value: optionalNumber, total_change: optionalNumber, trend: optionalString }),
});

export type { ComplianceHistoryInput } from './models';

const METRICS: Record<string, ComplianceMetric> = { score: 'SCORE', issues: 'ISSUES', fixes: 'FIXES' };
const INTERVALS: Record<string, HistoryInterval> = { day: 'DAY', week: 'WEEK', month: 'MONTH' };

/** `GET /history`. */
export async function getComplianceHistory(api: ComplianceAgentApi, input: ComplianceHistoryInput, signal: AbortSignal): Promise<ComplianceHistoryModel> {
  const response = await api.call({
    method: 'GET',
    path: '/history',
    query: {
      metric: input.metric.toLowerCase(),
      interval: input.interval.toLowerCase(),
      repository_id: input.repositoryId,
      framework: input.framework,
      from: isoOrUndefined(input.fromMs),
      to: isoOrUndefined(input.toMs),
    },
    signal,
  });
  const data = envelopeData(api.sourceId, response.body, historySchema);
  const trend = data.summary.trend?.toUpperCase();
  // The metric and interval the vendor says it answered with, not the ones asked for: a vendor
  // that fell back to a default must not be shown as having answered the question asked.
  const metric = METRICS[data.metric.toLowerCase()];
  const interval = INTERVALS[data.interval.toLowerCase()];
  if (!metric || !interval) throw new UpstreamError(ErrorCode.UpstreamMalformedResponse, api.sourceId, { logDetail: { reason: 'unknown history metric or interval' } });
  return {
    sourceId: api.sourceId,
    metric,
    interval,
    dataPoints: data.data_points.map((point) => ({ periodStart: point.period_start.slice(0, 10), periodEnd: point.period_end.slice(0, 10), value: point.value, change: point.change ?? null })),
    summary: {
      startValue: data.summary.start_value ?? null,
      endValue: data.summary.end_value ?? null,
      totalChange: data.summary.total_change ?? null,
      trend: trend === 'IMPROVING' || trend === 'DECLINING' || trend === 'STABLE' ? (trend as ComplianceTrend) : null,
    },
  };
}
