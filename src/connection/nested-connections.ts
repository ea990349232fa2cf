import DataLoader from 'dataloader';
import type { AuditEventModel } from '../models/audit-event';
import type { Direction } from '../sources/data-source';
import type { TraversalResume } from './cursor';
import {
  loadEventConnection,
  openStreams,
  outcomesOf,
  rememberListed,
  retentionOf,
  totalCountOf,
  type EventConnectionArgs,
  type EventConnectionDeps,
  type EventConnectionModel,
} from './events-connection';
import { selectEvents, type EventSelection } from './filter';
import { mergePage } from './merge';
import { decodeGlobalId } from './global-id';
import { keyOf } from './order';
import { parsePaging } from './paging-args';
import { planTraversal } from './plan';
import { toConnection } from './to-connection';

/** `Actor.events` or `Target.events` of one owner. */
export interface NestedConnectionRequest {
  owner: 'actor' | 'target';
  /** The owner's global id. */
  ownerId: string;
  args: EventConnectionArgs;
}

/** Owners whose first pages are read in one traversal; a filter takes at most 100 ids. */
const MAX_GROUP = 100;

/**
 * A per-request loader for nested connections. A list of 50 events that asks each event's actor
 * for its first 5 events would otherwise run 50 traversals; here all owners of one source asked
 * with the same arguments share one traversal whose filter names them all, and the events are
 * dealt out to their owners. Groups never span sources: an owner's events all come from its own
 * source, and a merged traversal would read every source as far as the rarest owner's source
 * must be read. Owners of a source that filters by one owner upstream load on their own: one
 * small request each costs less than reading that source as far as its rarest owner needs. Later
 * pages (with a cursor) load one by one: a client pages one owner at a time.
 */
export function createNestedConnectionLoader(deps: EventConnectionDeps): DataLoader<NestedConnectionRequest, EventConnectionModel, string> {
  return new DataLoader<NestedConnectionRequest, EventConnectionModel, string>(
    async (requests) => {
      const groups = new Map<string, number[]>();
      requests.forEach((request, index) => {
        const sourceId = sourceOfOwner(request.ownerId);
        const alone = request.args.after || request.args.before || filtersUpstream(deps, sourceId, request.owner);
        const key = alone ? `single:${index}` : `${request.owner}:${sourceId}:${JSON.stringify(request.args)}`;
        const members = groups.get(key) ?? [];
        members.push(index);
        groups.set(key, members);
      });
      const results: Array<EventConnectionModel | Error> = new Array(requests.length);
      await Promise.all(
        [...groups.values()].flatMap((members) => {
          const chunks: number[][] = [];
          for (let i = 0; i < members.length; i += MAX_GROUP) chunks.push(members.slice(i, i + MAX_GROUP));
          return chunks.map(async (chunk) => {
            try {
              const chunkRequests = chunk.map((index) => requests[index]!);
              const pages = chunk.length === 1 ? [await loadEventConnection(withOwner(chunkRequests[0]!), deps)] : await loadGroupedFirstPages(chunkRequests, deps);
              chunk.forEach((index, i) => (results[index] = pages[i]!));
            } catch (error) {
              for (const index of chunk) results[index] = error as Error;
            }
          });
        }),
      );
      return results;
    },
    { cacheKeyFn: (request) => `${request.owner}:${request.ownerId}:${JSON.stringify(request.args)}` },
  );
}

/** The source an actor or target id names; ids that do not decode are grouped on their own and refused by their traversal. */
function sourceOfOwner(ownerId: string): string {
  try {
    return decodeGlobalId(ownerId).sourceId;
  } catch {
    return `invalid:${ownerId}`;
  }
}

/** True when `sourceId` pushes a filter on one actor (or target) id down to its upstream. */
function filtersUpstream(deps: EventConnectionDeps, sourceId: string, owner: 'actor' | 'target'): boolean {
  const nativeFilters = deps.sources.get(sourceId)?.dataSource.capabilities.nativeFilters ?? [];
  return nativeFilters.includes(owner === 'actor' ? 'actorIds' : 'targetIds');
}

/** The owner's own connection arguments: its filter plus itself. */
function withOwner(request: NestedConnectionRequest): EventConnectionArgs {
  const filter = { ...request.args.filter };
  if (request.owner === 'actor') filter.actorIds = [request.ownerId];
  else filter.targetIds = [request.ownerId];
  return { ...request.args, filter };
}

/**
 * First pages of several owners with identical arguments, from one merged traversal whose
 * filter names every owner. Each owner's page is exactly what its own connection would list;
 * its cursors carry only their position, so that its next page seeks each source there under
 * the owner's own filter.
 */
export async function loadGroupedFirstPages(requests: readonly NestedConnectionRequest[], deps: EventConnectionDeps): Promise<EventConnectionModel[]> {
  const first = requests[0]!;
  const paging = parsePaging(first.args);
  const order: Direction = first.args.orderBy?.direction ?? 'DESC';
  const nowMs = deps.now?.() ?? Date.now();

  const owners = requests.map((request) => ({ selection: selectEvents(withOwner(request).filter, deps.sources.filterable, order), bucket: [] as AuditEventModel[] }));
  const union: EventSelection = selectEvents(
    { ...first.args.filter, ...(first.owner === 'actor' ? { actorIds: requests.map((r) => r.ownerId) } : { targetIds: requests.map((r) => r.ownerId) }) },
    deps.sources.filterable,
    order,
  );
  // First pages only: no cursor, so the union's plan is every owner's plan.
  const plan = planTraversal({ paging, order, selection: union, cursor: null, nowMs, settleWindowMs: deps.settleWindowMs });
  const wanted = paging.count + 1;
  let open = owners.length;

  const streams = openStreams(union, plan, deps);
  const [merged, retentionDays] = await Promise.all([
    mergePage(streams, {
      limit: Number.POSITIVE_INFINITY,
      fetchSize: Math.min(1000, wanted * owners.length),
      baseStates: {},
      onEvent: (event) => {
        for (const owner of owners) {
          if (owner.bucket.length < wanted && owner.selection.matches(event)) {
            owner.bucket.push(event);
            if (owner.bucket.length === wanted) open -= 1;
          }
        }
        return open === 0;
      },
    }),
    retentionOf(union, deps),
  ]);
  const outcomes = outcomesOf(streams);
  const stoppedShort = merged.budgetSpent || outcomes.some((outcome) => outcome.failure !== null);
  const positionOnly = (): TraversalResume => ({ kind: 'position' });

  return owners.map(({ selection, bucket }) => {
    const hasMore = bucket.length > paging.count;
    const listed = bucket.slice(0, paging.count);
    const ownerStoppedShort = !hasMore && stoppedShort;
    const ownSources = new Set(selection.sourceIds);
    const lastKey = listed.length > 0 ? keyOf(listed[listed.length - 1]!) : null;
    const connection = toConnection(
      plan,
      selection,
      {
        listed: listed.map((event) => ({ event, resume: positionOnly })),
        moreInTraversal: hasMore || ownerStoppedShort,
        // Everything up to the last event taken has been dealt out, so the scan resumes there.
        stoppedAt: ownerStoppedShort ? { position: merged.lastKey, resume: positionOnly } : null,
        tailFrom: paging.mode === 'forward' && plan.traversal === 'ASC' && !hasMore && !ownerStoppedShort ? { position: lastKey } : null,
        sources: outcomes.filter((outcome) => ownSources.has(outcome.sourceId)),
        retentionDays,
      },
      (cursor) => deps.cursors.encode(cursor, deps.cursorScope),
    );
    rememberListed(connection, deps);
    return { ...connection, totalCount: totalCountOf(selection, plan.asOfMs, deps) };
  });
}
