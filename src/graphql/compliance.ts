import type { GatewayContext } from '../context';
import { badUserInput, ErrorCode, GatewayError } from '../errors';
import { encodeGlobalId, eventGlobalId } from '../connection/global-id';
import type {
  ChainRewalkModel,
  ComplianceHistoryModel,
  ComplianceMetric,
  EvidenceContent,
  EvidenceExportModel,
  HistoryInterval,
  IntegrityVerificationModel,
  IntegrityVerificationOperations,
  IntegrityWindow,
  RetentionPolicyModel,
  Soc2EvidenceModel,
} from '../sources/compliance';
import { operationOf, type SourceOperation, type SourceOperations } from '../sources/data-source';
import type { RegisteredSource, SourceRegistry } from '../sources/registry';

/**
 * The GraphQL glue of the optional source operations (`sources/compliance.ts`): it checks the
 * arguments, finds the source in the caller's registry and the operation on its datasource, and
 * refuses before any upstream call when either is missing. It sees only the datasource contract.
 */

/**
 * The most entries one `verifyIntegrity` re-walk reads: about 100 upstream pages read one after
 * the other, which must fit in the request's deadline (`server.requestTimeoutMs`, 10 s by default).
 */
export const MAX_REWALK_ENTRIES = 10_000;
/** Longest text argument (job ids, repository ids, frameworks, criteria). */
const MAX_TEXT = 256;
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

/**
 * The source `sourceId` of the caller's registry and its `operation`. An unknown source, or one
 * outside the caller's scope (absent from its registry), is UNKNOWN_SOURCE exactly as for
 * `auditEvents`, so names cannot be probed; a source whose vendor does not offer the operation is
 * SOURCE_LACKS_CAPABILITY naming both. Neither asks an upstream anything.
 */
export function requireOperation<K extends SourceOperation>(
  sources: SourceRegistry,
  sourceId: string,
  operation: K,
  field = 'source',
): { source: RegisteredSource; operations: SourceOperations[K] } {
  const source = sources.get(sourceId);
  if (!source) throw badUserInput(`${field}: unknown source '${clip(sourceId)}'`, 'UNKNOWN_SOURCE', field);
  const operations = operationOf(source.dataSource, operation);
  if (!operations) {
    throw new GatewayError(ErrorCode.BadUserInput, `${field}: source '${sourceId}' does not offer ${operation} (see Source.capabilities)`, {
      reason: 'SOURCE_LACKS_CAPABILITY',
      source: sourceId,
      capability: operation,
      field,
    });
  }
  return { source, operations };
}

/** `Mutation.startEvidenceExport`. */
export function startEvidenceExport(
  input: {
    source: string;
    format?: 'ZIP' | null;
    framework: string;
    auditPeriod: { from: string; to: string };
    include?: readonly EvidenceContent[] | null;
    repositoryIds?: readonly string[] | null;
  },
  context: GatewayContext,
): Promise<EvidenceExportModel> {
  const { operations } = requireOperation(context.sources, input.source, 'evidenceExport', 'input.source');
  text(input.framework, 'input.framework');
  if (input.auditPeriod.from > input.auditPeriod.to) throw badUserInput('input.auditPeriod: from must not be after to', 'ARGUMENT_CONFLICT', 'input.auditPeriod');
  if (input.include && input.include.length === 0) throw badUserInput('input.include: give at least one value, or omit the field for everything', 'ARGUMENT_OUT_OF_RANGE', 'input.include');
  if (input.repositoryIds) {
    if (input.repositoryIds.length === 0) throw badUserInput('input.repositoryIds: give at least one id, or omit the field for all', 'ARGUMENT_OUT_OF_RANGE', 'input.repositoryIds');
    for (const id of input.repositoryIds) text(id, 'input.repositoryIds');
  }
  return operations.start(
    {
      format: input.format ?? 'ZIP',
      framework: input.framework,
      auditPeriod: { from: input.auditPeriod.from, to: input.auditPeriod.to },
      ...(input.include ? { include: input.include } : {}),
      ...(input.repositoryIds ? { repositoryIds: input.repositoryIds } : {}),
    },
    context.signal,
  );
}

/** `Query.evidenceExport`: null for a job the vendor does not know. */
export function evidenceExport(sourceId: string, jobId: string, context: GatewayContext): Promise<EvidenceExportModel | null> {
  const { operations } = requireOperation(context.sources, sourceId, 'evidenceExport');
  text(jobId, 'jobId');
  return operations.get(jobId, context.signal);
}

/**
 * `node(id)` of an `EvidenceExport`: null when its source is not the caller's, does not offer
 * evidence packages (any more), or the vendor no longer knows the job.
 */
export async function evidenceExportNode(sourceId: string, jobId: string, context: GatewayContext): Promise<EvidenceExportModel | null> {
  const source = context.sources.get(sourceId);
  const operations = source ? operationOf(source.dataSource, 'evidenceExport') : undefined;
  return operations ? operations.get(jobId, context.signal) : null;
}

/** The global id of an evidence export job. */
export function evidenceExportGlobalId(job: EvidenceExportModel): string {
  return encodeGlobalId({ type: 'EvidenceExport', sourceId: job.sourceId, jobId: job.jobId });
}

/**
 * What `verifyIntegrity` answers before anything is asked upstream: the window and the two
 * checks, each started when first selected and shared by every selection of it (aliases,
 * `intact`), so an unselected re-walk costs nothing.
 */
export interface IntegrityCheckModel {
  sourceId: string;
  window: IntegrityWindow;
  vendorVerdict(): Promise<IntegrityVerificationModel>;
  rewalk(): Promise<ChainRewalkModel>;
}

/** `Query.verifyIntegrity`. */
export function verifyIntegrity(
  args: { source: string; from?: Date | null; to?: Date | null; repositoryId?: string | null },
  context: GatewayContext,
): IntegrityCheckModel {
  const { operations } = requireOperation(context.sources, args.source, 'integrityVerification');
  const window: IntegrityWindow = { fromMs: args.from?.getTime() ?? null, toMs: args.to?.getTime() ?? null, repositoryId: args.repositoryId ?? null };
  checkWindow(window.fromMs, window.toMs);
  if (window.repositoryId !== null) text(window.repositoryId, 'repositoryId');
  return integrityCheck(args.source, window, operations, context);
}

function integrityCheck(sourceId: string, window: IntegrityWindow, operations: IntegrityVerificationOperations, context: GatewayContext): IntegrityCheckModel {
  let verdict: Promise<IntegrityVerificationModel> | null = null;
  let rewalk: Promise<ChainRewalkModel> | null = null;
  return {
    sourceId,
    window,
    vendorVerdict: () => (verdict ??= operations.vendorVerdict(window, context.signal)),
    rewalk: () =>
      (rewalk ??= operations.rewalk(window, { maxEntries: MAX_REWALK_ENTRIES }, context.signal).then((result) => {
        // The events a re-walk names are what a client refetches next: answered from memory then.
        for (const problem of result.problems) if (problem.event) context.caches.events.remember(eventGlobalId(problem.event), problem.event);
        return result;
      })),
  };
}

/** Both verdicts together: whole only when the vendor and the gateway's re-walk both say so. */
export async function integrityIntact(check: IntegrityCheckModel): Promise<boolean> {
  const [verdict, rewalk] = await Promise.all([check.vendorVerdict(), check.rewalk()]);
  return verdict.verified && rewalk.valid;
}

/** `Query.complianceHistory`. */
export function complianceHistory(
  args: { source: string; metric: ComplianceMetric; interval: HistoryInterval; repositoryId?: string | null; framework?: string | null; from?: Date | null; to?: Date | null },
  context: GatewayContext,
): Promise<ComplianceHistoryModel> {
  const { operations } = requireOperation(context.sources, args.source, 'complianceHistory');
  const fromMs = args.from?.getTime() ?? null;
  const toMs = args.to?.getTime() ?? null;
  checkWindow(fromMs, toMs);
  if (args.repositoryId != null) text(args.repositoryId, 'repositoryId');
  if (args.framework != null) text(args.framework, 'framework');
  return operations.history(
    { metric: args.metric, interval: args.interval, repositoryId: args.repositoryId ?? null, framework: args.framework ?? null, fromMs, toMs },
    context.signal,
  );
}

/** `Query.retentionPolicy`. */
export function retentionPolicy(sourceId: string, context: GatewayContext): Promise<RetentionPolicyModel> {
  return requireOperation(context.sources, sourceId, 'retentionPolicy').operations.policy(context.signal);
}

/** `Query.soc2Evidence`. */
export function soc2Evidence(
  args: { source: string; criteria?: string | null; auditPeriodStart?: string | null; auditPeriodEnd?: string | null },
  context: GatewayContext,
): Promise<Soc2EvidenceModel> {
  const { operations } = requireOperation(context.sources, args.source, 'soc2Evidence');
  if (args.criteria != null) text(args.criteria, 'criteria');
  const start = args.auditPeriodStart ?? null;
  const end = args.auditPeriodEnd ?? null;
  if (start !== null && end !== null && start > end) throw badUserInput('auditPeriodStart must not be after auditPeriodEnd', 'ARGUMENT_CONFLICT', 'auditPeriodStart');
  return operations.evidence({ criteria: args.criteria ?? null, auditPeriodStart: start, auditPeriodEnd: end }, context.signal);
}

function checkWindow(fromMs: number | null, toMs: number | null): void {
  if (fromMs !== null && toMs !== null && fromMs >= toMs) throw badUserInput('from must be before to', 'ARGUMENT_CONFLICT', 'from');
}

/** A text argument: 1 to {@link MAX_TEXT} printable characters. */
function text(value: string, field: string): void {
  if (value.length === 0 || value.length > MAX_TEXT || !PRINTABLE.test(value)) throw badUserInput(`${field}: 1 to ${MAX_TEXT} printable characters`, 'ARGUMENT_OUT_OF_RANGE', field);
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
