import type { GatewayContext } from '../context';
import { GatewayError } from '../errors';
import type { ActorModel, AuditEventModel, TargetModel } from '../models/audit-event';
import type { RegisteredSource } from '../sources/registry';
import type { EvidenceExportModel } from '../sources/compliance';
import { evidenceExportNode } from './compliance';
import { loadEventConnection } from '../connection/events-connection';
import { decodeGlobalId } from '../connection/global-id';
import { connectionDeps } from '../context';
import type { ExportJob } from '../export/job';
import { exportNode } from './exports';

/** What `Query.node` can return. */
export type NodeModel = AuditEventModel | ActorModel | TargetModel | RegisteredSource | EvidenceExportModel | ExportJob;

/**
 * Refetches any object by its global id. Actors and targets exist only through their events, so
 * they are found through their newest event (a narrow, budgeted query), never invented.
 */
export async function resolveNode(id: string, context: GatewayContext): Promise<NodeModel | null> {
  const ownExport = await exportNode(id, context);
  if (ownExport) return ownExport.found;
  const decoded = decodeGlobalId(id);
  if (!context.sources.get(decoded.sourceId)) return null;
  switch (decoded.type) {
    case 'Source':
      return context.sources.get(decoded.sourceId) ?? null;
    case 'AuditEvent':
      return context.loaders.event.load(id);
    case 'Actor': {
      const event = await newestEvent(context, { sources: [decoded.sourceId], actorIds: [id] });
      return event?.actor ?? null;
    }
    case 'Target': {
      const event = await newestEvent(context, { sources: [decoded.sourceId], targetIds: [id] });
      return event?.target ?? null;
    }
    case 'EvidenceExport':
      return evidenceExportNode(decoded.sourceId, decoded.jobId, context);
    default: {
      const unreachable: never = decoded;
      return unreachable;
    }
  }
}

/**
 * `nodes(ids:)`: every id resolved together, so the event loader batches the events of each
 * source. An id that fails (its source is down, the id is malformed) is null with its own error
 * at its index; the other ids still answer. Anything unexpected fails the whole field, masked.
 */
export async function resolveNodes(ids: readonly string[], context: GatewayContext, path: readonly (string | number)[]): Promise<Array<NodeModel | null>> {
  const settled = await Promise.allSettled(ids.map((id) => resolveNode(id, context)));
  return settled.map((outcome, index) => {
    if (outcome.status === 'fulfilled') return outcome.value;
    if (!(outcome.reason instanceof GatewayError)) throw outcome.reason;
    context.partialErrors.push({ error: outcome.reason, path: [...path, index] });
    return null;
  });
}

async function newestEvent(
  context: GatewayContext,
  filter: { sources: string[]; actorIds?: string[]; targetIds?: string[] },
): Promise<AuditEventModel | null> {
  const connection = await loadEventConnection({ first: 1, filter }, connectionDeps(context));
  const [error] = connection.errors;
  if (error && connection.edges.length === 0) throw error;
  return connection.edges[0]?.node ?? null;
}
