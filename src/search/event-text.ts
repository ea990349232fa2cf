import type { AuditEventModel } from '../models/audit-event';
import type { JsonValue } from '../models/json';
import type { SearchPart } from '../sources/compliance';

/** One searchable value of an event: where it is (`actor.email`) and its text. */
export interface FieldText {
  path: string;
  text: string;
}

type Group = Exclude<SearchPart, 'any' | 'ip' | 'session' | 'agent' | 'path'>;

/** What each prefix searches, by the groups of values below; `ip` and the like are single request values. */
const SINGLE_REQUEST_VALUES: Partial<Record<SearchPart, string>> = { ip: 'request.clientIp', session: 'request.sessionId', agent: 'request.userAgent', path: 'request.path' };
const ALL_GROUPS: readonly Group[] = ['action', 'actor', 'target', 'request', 'repository', 'details'];

/**
 * The values of an event a search looks at, by part (see `SearchPart`), each read once per event
 * and kept with its lower-cased form.
 */
export class EventText {
  private readonly groups = new Map<Group, Array<FieldText & { lower: string }>>();

  constructor(private readonly event: AuditEventModel) {}

  /** The values a term aimed at `part` is looked for in. */
  valuesOf(part: SearchPart): Array<FieldText & { lower: string }> {
    if (part === 'any') return ALL_GROUPS.flatMap((group) => this.group(group));
    const single = SINGLE_REQUEST_VALUES[part];
    if (single) return this.group('request').filter((value) => value.path === single);
    return this.group(part as Group);
  }

  private group(group: Group): Array<FieldText & { lower: string }> {
    let values = this.groups.get(group);
    if (!values) {
      values = [];
      for (const [path, text] of rawValues(this.event, group)) if (text) values.push({ path, text, lower: text.toLowerCase() });
      this.groups.set(group, values);
    }
    return values;
  }
}

function rawValues(event: AuditEventModel, group: Group): Array<[string, string | null | undefined]> {
  const { actor, target, request, repository } = event;
  switch (group) {
    case 'action':
      return [['action', event.action]];
    case 'actor':
      return [
        ['actor.name', actor.name],
        ['actor.email', actor.email],
        ['actor.id', actor.sourceActorId],
        ['actor.application', actor.application],
        ['actor.automation', actor.automation],
      ];
    case 'target':
      return target
        ? [
            ['target.name', target.name],
            ['target.id', target.sourceTargetId],
            ['target.type', target.type],
            ['target.subtype', target.subtype],
            ['target.email', target.email],
          ]
        : [];
    case 'request':
      return request
        ? [
            ['request.clientIp', request.clientIp],
            ['request.userAgent', request.userAgent],
            ['request.httpMethod', request.httpMethod],
            ['request.path', request.path],
            ['request.sessionId', request.sessionId],
            ['request.traceId', request.traceId],
            ['request.requestId', request.requestId],
            ['request.origin', request.origin],
          ]
        : [];
    case 'repository':
      return repository ? [['repository.name', repository.name], ['repository.id', repository.sourceRepositoryId]] : [];
    case 'details': {
      const out: Array<[string, string]> = [];
      flatten(event.details, 'details', out);
      return out;
    }
  }
}

/** Every string, number and boolean of `value`, with its path (`details.changes[0].to`). */
function flatten(value: JsonValue | null | undefined, path: string, out: Array<[string, string]>): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push([path, String(value)]);
  else if (Array.isArray(value)) value.forEach((item, index) => flatten(item, `${path}[${index}]`, out));
  else for (const [key, item] of Object.entries(value)) flatten(item, `${path}.${key}`, out);
}
