import type { SyntheticDataset } from '../../simulation/dataset';
import { clientIpFor, personFor, userAgentFor, type Person } from '../../simulation/people';
import { choose, pick, unit } from '../../simulation/random';
import type { RawNirvanaAuditLog } from './wire-types';

/** Salt for ids, so that actor, target and event ids of one index differ. */
export const NS = { event: 1, actor: 2, target: 3 } as const;

const RESOURCES = ['vm', 'volume', 'vpc', 'firewall_rule', 'api_key', 'project', 'user'] as const;
const VERBS = ['created', 'updated', 'deleted', 'listed'] as const;

/** The resources the simulated organisation acts on: the part of an action before the dot. */
export type NirvanaResource = (typeof RESOURCES)[number];
/** What the simulated requests do to a resource: the part of an action after the dot. */
export type NirvanaVerb = (typeof VERBS)[number];

const PATHS: Record<NirvanaResource, string> = {
  vm: '/v1/compute/vms',
  volume: '/v1/compute/volumes',
  vpc: '/v1/networking/vpcs',
  firewall_rule: '/v1/networking/firewall_rules',
  api_key: '/v1/api_keys',
  project: '/v1/projects',
  user: '/v1/users',
};
const METHODS: Record<NirvanaVerb, string> = { created: 'POST', updated: 'PATCH', deleted: 'DELETE', listed: 'GET' };
/** API keys are numbered after the people, so that their ids never meet. */
const FIRST_API_KEY = 10_000;

/**
 * The fields of entry `index`, each derived when read. A list filter compares a few fields of
 * many entries; building whole records for that (names, user agents, dates) would cost several
 * times more than the comparison. Fields that others derive from are kept once drawn.
 */
export class NirvanaEntry {
  private drawnResource: NirvanaResource | undefined;
  private drawnVerb: NirvanaVerb | undefined;
  private drawnPerson: Person | undefined;
  private drawnTargetId: string | undefined;

  constructor(
    private readonly dataset: SyntheticDataset,
    readonly index: number,
  ) {}

  private get seed(): number {
    return this.dataset.seed;
  }

  get resource(): NirvanaResource {
    return (this.drawnResource ??= choose(RESOURCES, this.seed, this.index, 10));
  }

  get verb(): NirvanaVerb {
    return (this.drawnVerb ??= choose(VERBS, this.seed, this.index, 11));
  }

  get action(): string {
    return `${this.resource}.${this.verb}`;
  }

  get method(): string {
    return METHODS[this.verb];
  }

  get actorType(): 'user' | 'api_key' {
    return unit(this.seed, this.index, 12) < 0.2 ? 'api_key' : 'user';
  }

  get person(): Person {
    return (this.drawnPerson ??= personFor(this.seed, this.index, 13, 40, 'example.com'));
  }

  get actorId(): string {
    const person = this.person;
    return this.dataset.uuidOf(this.actorType === 'api_key' ? FIRST_API_KEY + (person.n % 6) : person.n, NS.actor);
  }

  get actorName(): string {
    const person = this.person;
    return this.actorType === 'api_key' ? `ci-deploy-key-${person.n % 6}` : person.name;
  }

  get targetId(): string {
    return (this.drawnTargetId ??= this.dataset.uuidOf(pick(this.seed, this.index, 14, 300), NS.target));
  }

  /** Listing requests act on no one resource. */
  get target(): { id: string; type: string } | null {
    return this.verb === 'listed' ? null : { id: this.targetId, type: this.resource };
  }

  /** The entry's own id. */
  get id(): string {
    return this.dataset.uuidOf(this.index, NS.event);
  }

  /** Whether the audited request was refused: about 6 in 100 are. */
  get failed(): boolean {
    return unit(this.seed, this.index, 15) < 0.06;
  }

  /** A 4xx for a failed request, else 201 for a creation and 200 for the rest. */
  get statusCode(): number {
    return this.failed ? choose([403, 404, 422], this.seed, this.index, 17) : this.verb === 'created' ? 201 : 200;
  }

  get path(): string {
    const verb = this.verb;
    const collection = PATHS[this.resource];
    return verb === 'created' || verb === 'listed' ? collection : `${collection}/${this.targetId}`;
  }

  get clientIp(): string {
    return clientIpFor(this.seed, this.index, 16);
  }

  get userAgent(): string {
    return userAgentFor(this.seed, this.index, 18);
  }

  get createdAtMs(): number {
    return this.dataset.timeOf(this.index);
  }
}

/** The wire record of event `index` of `dataset`. */
export function nirvanaRecord(dataset: SyntheticDataset, index: number): RawNirvanaAuditLog {
  const entry = new NirvanaEntry(dataset, index);
  const record: RawNirvanaAuditLog = {
    id: entry.id,
    action: entry.action,
    actor: { id: entry.actorId, name: entry.actorName, type: entry.actorType },
    client_ip: entry.clientIp,
    created_at: new Date(entry.createdAtMs).toISOString(),
    method: entry.method,
    path: entry.path,
    status_code: entry.statusCode,
    user_agent: entry.userAgent,
  };
  const target = entry.target;
  if (target) record.target = target;
  return record;
}
