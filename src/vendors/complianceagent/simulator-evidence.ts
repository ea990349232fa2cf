import { createHash } from 'node:crypto';
import type { SimRequest, SimResponse } from '../../simulation/server';
import { DAY_MS, errorResponse, guarded, InvalidParameter, isoDate, nextPeriod, ok, parseDate, periodStart, scan } from './simulator-compliance';
import { FRAMEWORKS, REPOSITORIES, type ComplianceAgentData } from './simulator-data';
import { EVIDENCE_INCLUDES, type RawEvidenceExportJob, type RawSoc2Evidence, type RawSoc2EvidenceItem } from './wire-types';

/**
 * The ComplianceAgent simulator's evidence endpoints: SOC 2 evidence (`GET /evidence/soc2`) and
 * evidence export jobs (`POST /evidence/export`, `GET /evidence/export/{job_id}`).
 */

/** SOC 2 criteria the simulator holds evidence for, and the event types that evidence each one. */
export const SOC2_CRITERIA: Record<string, { types: readonly string[]; title: string; kind: string }> = {
  'CC6.1': { types: ['access.granted', 'access.revoked'], title: 'Access Review', kind: 'access_review' },
  'CC6.2': { types: ['access.granted'], title: 'User Provisioning Review', kind: 'access_review' },
  'CC6.3': { types: ['access.revoked'], title: 'Access Removal Review', kind: 'access_review' },
  'CC7.1': { types: ['config.changed'], title: 'Configuration Monitoring Report', kind: 'configuration_review' },
  'CC7.2': { types: ['scan.started', 'scan.completed'], title: 'Continuous Monitoring Report', kind: 'monitoring_report' },
  'CC7.4': { types: ['issue.created', 'issue.updated', 'issue.resolved'], title: 'Incident Response Review', kind: 'incident_review' },
  'CC8.1': { types: ['fix.generated', 'fix.applied', 'config.changed'], title: 'Change Management Review', kind: 'change_review' },
};

/**
 * `GET /evidence/soc2`: per criterion, one monthly review item with an artifact for each month
 * of the period, plus one aggregate log item counting the criterion's events. The period defaults
 * to the whole log; without `criteria`, every criterion (and `criteria: null`).
 */
export function handleSoc2(data: ComplianceAgentData, request: SimRequest): SimResponse {
  return guarded(() => {
    const criteria = request.query.get('criteria');
    const allowed = Object.keys(SOC2_CRITERIA);
    if (criteria !== null && !SOC2_CRITERIA[criteria]) throw new InvalidParameter(422, 'criteria', `criteria must be one of ${allowed.join(', ')}`, { allowed });
    const oldest = data.size > 0 ? data.dataset.timeOf(0) : Date.now();
    const newest = data.size > 0 ? data.dataset.timeOf(data.size - 1) : Date.now();
    const startMs = parseDate(request.query.get('audit_period_start'), 'audit_period_start') ?? periodStart(oldest, 'day');
    const endMs = parseDate(request.query.get('audit_period_end'), 'audit_period_end') ?? periodStart(newest, 'day');
    if (startMs > endMs) throw new InvalidParameter(422, 'audit_period_start', 'audit_period_start must not be after audit_period_end');
    const items: RawSoc2EvidenceItem[] = [];
    for (const name of criteria === null ? allowed : [criteria]) {
      const spec = SOC2_CRITERIA[name]!;
      const slug = name.replace('.', '').toLowerCase();
      for (let month = periodStart(startMs, 'month'), n = 0; month <= endMs && n < 24; month = nextPeriod(month, 'month'), n++) {
        const label = isoDate(month).slice(0, 7);
        const id = `ev_${slug}_${label.replace('-', '')}`;
        items.push({
          id,
          type: spec.kind,
          title: `${spec.title} - ${label}`,
          description: `${spec.title} for ${name}, ${label}`,
          date: isoDate(Math.min(nextPeriod(month, 'month') - DAY_MS, endMs)),
          artifacts: [{ name: `${spec.kind}_${label}.pdf`, url: `/evidence/download/${id}_artifact_1` }],
        });
      }
      let count = 0;
      scan(data, startMs, endMs + DAY_MS, (_index, a) => {
        if (spec.types.includes(a.eventType)) count += 1;
      });
      items.push({
        id: `ev_${slug}_log`,
        type: 'audit_log',
        title: `Audit Log Extract - ${name}`,
        description: `Aggregated ${spec.types.join(', ')} events`,
        date_range: { from: isoDate(startMs), to: isoDate(endMs) },
        record_count: count,
      });
    }
    const result: RawSoc2Evidence = { criteria, evidence_items: items };
    return ok(result);
  });
}

/** Event-type prefixes of each evidence content; reports are scan completions. */
const INCLUDE_TYPES: Record<string, (type: string) => boolean> = {
  compliance_reports: (type) => type === 'scan.completed',
  scan_results: (type) => type.startsWith('scan.'),
  issue_history: (type) => type.startsWith('issue.'),
  fix_records: (type) => type.startsWith('fix.'),
  access_logs: (type) => type.startsWith('access.'),
  configuration_history: (type) => type.startsWith('config.'),
};
/** Longest audit period one export may cover, days. */
export const MAX_EXPORT_DAYS = 366;

interface ExportJob {
  id: string;
  createdMs: number;
  readyMs: number;
  estimatedMb: number;
  files: number;
}

/**
 * Evidence export jobs: `POST` validates the body (400 for a missing or malformed field, 422 for a
 * value out of its allowed set, listing the allowed values) and starts a job that is `processing`
 * until `delayMs` have passed, then `completed` for 7 days (the download URL's lifetime), then
 * `expired`. Sizes: 50 KB an included event, 1 MB minimum; files = included events + 1 report
 * per repository.
 */
export class ExportJobs {
  private readonly jobs = new Map<string, ExportJob>();
  private counter = 0;

  constructor(
    private readonly data: ComplianceAgentData,
    private readonly delayMs: number,
  ) {}

  start(request: SimRequest): SimResponse {
    return guarded(() => {
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidParameter(400, 'body', 'body must be a JSON object');
      const fields = body as Record<string, unknown>;
      const format = fields['format'] ?? 'zip';
      if (format !== 'zip') throw new InvalidParameter(422, 'format', 'format must be one of zip', { allowed: ['zip'] });
      const framework = fields['framework'];
      if (typeof framework !== 'string') throw new InvalidParameter(400, 'framework', 'framework is required');
      if (!FRAMEWORKS[framework]) throw new InvalidParameter(422, 'framework', `framework must be one of ${Object.keys(FRAMEWORKS).join(', ')}`, { allowed: Object.keys(FRAMEWORKS) });
      const period = fields['audit_period'];
      if (typeof period !== 'object' || period === null) throw new InvalidParameter(400, 'audit_period', 'audit_period {from, to} is required');
      const fromMs = parseDate((period as Record<string, unknown>)['from'], 'audit_period.from');
      const toMs = parseDate((period as Record<string, unknown>)['to'], 'audit_period.to');
      if (fromMs === null || toMs === null) throw new InvalidParameter(400, 'audit_period', 'audit_period.from and audit_period.to are required');
      if (fromMs > toMs) throw new InvalidParameter(422, 'audit_period', 'audit_period.from must not be after audit_period.to');
      if ((toMs - fromMs) / DAY_MS + 1 > MAX_EXPORT_DAYS) throw new InvalidParameter(422, 'audit_period', `audit_period may cover at most ${MAX_EXPORT_DAYS} days`, { max_days: MAX_EXPORT_DAYS });
      const include = fields['include'] ?? [...EVIDENCE_INCLUDES];
      if (!Array.isArray(include) || include.length === 0 || include.some((item) => typeof item !== 'string' || !INCLUDE_TYPES[item])) {
        throw new InvalidParameter(422, 'include', `include must be a non-empty subset of ${EVIDENCE_INCLUDES.join(', ')}`, { allowed: EVIDENCE_INCLUDES });
      }
      const repositoryIds = fields['repository_ids'] ?? null;
      if (repositoryIds !== null && (!Array.isArray(repositoryIds) || repositoryIds.some((id) => typeof id !== 'string'))) {
        throw new InvalidParameter(400, 'repository_ids', 'repository_ids must be an array of strings');
      }
      const repos = new Set((repositoryIds as string[] | null) ?? REPOSITORIES.map((repo) => repo.id));
      const tests = (include as string[]).map((item) => INCLUDE_TYPES[item]!);
      let events = 0;
      scan(this.data, fromMs, toMs + DAY_MS, (_index, a) => {
        if (repos.has(a.repository.id) && tests.some((test) => test(a.eventType))) events += 1;
      });
      const now = Date.now();
      const id = `export_${createHash('sha256').update(`${this.data.seed}:${++this.counter}`).digest('hex').slice(0, 12)}`;
      const job: ExportJob = { id, createdMs: now, readyMs: now + this.delayMs, estimatedMb: Math.max(1, Math.round(events * 0.05)), files: events + repos.size };
      this.jobs.set(id, job);
      const data: RawEvidenceExportJob = { job_id: id, status: 'processing', estimated_size_mb: job.estimatedMb, estimated_completion: new Date(job.readyMs).toISOString() };
      return { status: 202, json: { success: true, data } };
    });
  }

  status(jobId: string): SimResponse {
    const job = this.jobs.get(jobId);
    if (!job) return errorResponse(404, 'NOT_FOUND', `export job ${jobId.slice(0, 64)} not found`, { job_id: jobId.slice(0, 64) });
    const now = Date.now();
    const created = new Date(job.createdMs).toISOString();
    if (now < job.readyMs) {
      const data: RawEvidenceExportJob = { job_id: job.id, status: 'processing', estimated_size_mb: job.estimatedMb, estimated_completion: new Date(job.readyMs).toISOString(), created_at: created };
      return ok(data);
    }
    const expiresMs = job.readyMs + 7 * DAY_MS;
    const data: RawEvidenceExportJob = {
      job_id: job.id,
      status: now >= expiresMs ? 'expired' : 'completed',
      download_url: `https://exports.complianceagent.io/${job.id}.zip`,
      expires_at: new Date(expiresMs).toISOString(),
      file_size_mb: Math.max(1, Math.round(job.estimatedMb * 0.99)),
      files_included: job.files,
      created_at: created,
      completed_at: new Date(job.readyMs).toISOString(),
    };
    return ok(data);
  }
}
