import type { AuditEventModel } from '../models/audit-event';
import type { SourceQuery } from './data-source';
import { ipMatcher } from './ip-ranges';

/**
 * Whether an event of one source matches every field of `query` (actor and target ids as the
 * vendor's own). The gateway re-applies this to whatever a datasource returns, so a datasource
 * may push down any part of a query, and must push down only what its vendor applies exactly
 * this way.
 */
export function queryMatcher(query: SourceQuery): (event: AuditEventModel) => boolean {
  const { fromMs, toMs, text, failed, userAgents } = query;
  const set = <T>(values: readonly T[] | null) => values && new Set(values);
  const actionSet = set(query.actions);
  const actorIdSet = set(query.actorIds);
  const emailSet = set(query.actorEmails);
  const actorTypeSet = set(query.actorTypes);
  const targetIdSet = set(query.targetIds);
  const targetTypeSet = set(query.targetTypes);
  const ipMatches = query.clientIps && ipMatcher(query.clientIps);
  const sessionSet = set(query.sessionIds);
  const requestSet = set(query.requestIds);
  const traceSet = set(query.traceIds);
  const repositorySet = set(query.repositoryIds);
  const eventIdSet = set(query.sourceEventIds);
  return (event) => {
    if (fromMs !== null && event.occurredAtMs < fromMs) return false;
    if (toMs !== null && event.occurredAtMs >= toMs) return false;
    if (eventIdSet && !eventIdSet.has(event.sourceEventId)) return false;
    if (actionSet && !actionSet.has(event.action)) return false;
    if (actorTypeSet && !actorTypeSet.has(event.actor.type)) return false;
    if (actorIdSet && !(event.actor.sourceActorId !== null && actorIdSet.has(event.actor.sourceActorId))) return false;
    if (emailSet && !(event.actor.email && emailSet.has(event.actor.email.toLowerCase()))) return false;
    if (targetTypeSet && !(event.target && targetTypeSet.has(event.target.type))) return false;
    if (targetIdSet && !(event.target && targetIdSet.has(event.target.sourceTargetId))) return false;
    if (failed !== null && event.failed !== failed) return false;
    if (repositorySet && !(event.repository && repositorySet.has(event.repository.sourceRepositoryId))) return false;
    const request = event.request;
    if (ipMatches && !ipMatches(request?.clientIp ?? null)) return false;
    if (sessionSet && !(request?.sessionId != null && sessionSet.has(request.sessionId))) return false;
    if (requestSet && !(request?.requestId != null && requestSet.has(request.requestId))) return false;
    if (traceSet && !(request?.traceId != null && traceSet.has(request.traceId))) return false;
    if (userAgents) {
      const agent = request?.userAgent?.toLowerCase();
      if (agent === undefined || !userAgents.some((part) => agent.includes(part))) return false;
    }
    if (text !== null && !searchableText(event).includes(text)) return false;
    return true;
  };
}

/** The text `filter.text` is matched against, lower-cased. */
export function searchableText(event: AuditEventModel): string {
  const request = event.request;
  const parts = [
    event.action,
    event.actor.name,
    event.actor.email,
    event.actor.sourceActorId,
    event.actor.application,
    event.actor.automation,
    event.target?.name,
    event.target?.subtype,
    event.target?.email,
    event.target?.sourceTargetId,
    event.target?.type,
    request?.clientIp,
    request?.userAgent,
    request?.httpMethod,
    request?.path,
    request?.sessionId,
    request?.traceId,
    request?.requestId,
    request?.origin,
    event.repository?.name,
    event.repository?.sourceRepositoryId,
    event.details === null ? null : JSON.stringify(event.details),
  ];
  return parts.filter((part): part is string => typeof part === 'string').join('\n').toLowerCase();
}

