import type { GatewayContext } from '../context';
import { decodeGlobalId } from '../connection/global-id';
import type { EventFilterInput } from '../connection/filter';
import { ErrorCode, GatewayError } from '../errors';
import { decodeExportId } from '../export/export-id';
import type { ExportFormat, ExportJob } from '../export/job';
import type { ExportService } from '../export/service';
import type { Direction } from '../sources/data-source';

/** `startAuditExport`'s input, as the resolvers receive it. */
export interface StartAuditExportArgs {
  filter?: EventFilterInput | null;
  orderBy?: { direction?: Direction | null } | null;
  formats?: readonly ExportFormat[] | null;
}

/** The service, or the error every export field answers without `server.exports`. */
function exportsOf(context: GatewayContext): ExportService {
  if (context.exports) return context.exports;
  throw new GatewayError(ErrorCode.ExportsDisabled, 'Evidence exports are not enabled on this gateway: its config has no server.exports (dir, signingKey)');
}

export function startAuditExport(input: StartAuditExportArgs, context: GatewayContext): Promise<ExportJob> {
  return exportsOf(context).start({
    ownerId: context.principal.id,
    sources: context.sources,
    filter: input.filter,
    order: input.orderBy?.direction ?? 'DESC',
    formats: input.formats,
  });
}

/**
 * The job an id names, for its owner: null for an unknown or foreign export, or a well-formed id of
 * another type; BAD_USER_INPUT (INVALID_ID) for text that is no id at all.
 */
function jobIdOf(id: string): string | null {
  const jobId = decodeExportId(id);
  if (jobId === null) decodeGlobalId(id);
  return jobId;
}

export async function auditExport(id: string, context: GatewayContext): Promise<ExportJob | null> {
  const service = exportsOf(context);
  const jobId = jobIdOf(id);
  return jobId === null ? null : service.get(jobId, context.principal.id);
}

export function cancelAuditExport(id: string, context: GatewayContext): Promise<ExportJob | null> {
  const service = exportsOf(context);
  const jobId = jobIdOf(id);
  return jobId === null ? Promise.resolve(null) : service.cancel(jobId, context.principal.id);
}

export function exportPublicKey(context: GatewayContext): { algorithm: string; pem: string; keyId: string } {
  return exportsOf(context).publicKey;
}

/**
 * `node(id)` for an export id: its owner's job, else null (also when exports are off: `node`
 * answers null for whatever it cannot show). Null for ids that are not export ids, which the
 * caller resolves as other global ids.
 */
export async function exportNode(id: string, context: GatewayContext): Promise<{ found: ExportJob | null } | null> {
  const jobId = decodeExportId(id);
  if (jobId === null) return null;
  return { found: (await context.exports?.get(jobId, context.principal.id)) ?? null };
}
