import type { SyntheticDataset } from '../../simulation/dataset';
import { clientIpFor, personOf, userAgentFor } from '../../simulation/people';
import { choose, hex, mix, pick, unit } from '../../simulation/random';
import { HASH_PREFIX, entryDigest } from './hash-chain';
import type { RawAuditLogEntry, RawAuditLogSingleEntry, RawEventType } from './wire-types';

/**
 * The simulated organisation behind the ComplianceAgent simulator: every entry is computed from
 * (seed, index) of a {@link SyntheticDataset}; only timestamps (in the data set) and each entry's
 * hash, once asked for, are stored, so a million entries cost about 40 bytes each.
 */

/** Bytes of one stored digest (SHA-256). */
const DIGEST_BYTES = 32;

/** Repositories of the simulated organisation (`acme`), the first ones busiest. */
export const REPOSITORIES = [
  { id: 'repo_101', name: 'acme/web-app' },
  { id: 'repo_102', name: 'acme/api' },
  { id: 'repo_103', name: 'acme/mobile' },
  { id: 'repo_104', name: 'acme/infra' },
] as const;

/** Event types with weights out of 100. */
const TYPE_WEIGHTS: readonly [RawEventType, number][] = [
  ['scan.started', 14], ['scan.completed', 14], ['issue.created', 14], ['issue.updated', 10], ['issue.resolved', 10],
  ['fix.generated', 10], ['fix.applied', 8], ['config.changed', 8], ['access.granted', 6], ['access.revoked', 6],
];
/** Chance that an event of a type is done by a system actor rather than a person. */
const SYSTEM_SHARE: Record<RawEventType, number> = {
  'scan.started': 0.7, 'scan.completed': 1, 'issue.created': 0.85, 'issue.updated': 0.2, 'issue.resolved': 0.3,
  'fix.generated': 1, 'fix.applied': 0.25, 'config.changed': 0.05, 'access.granted': 0, 'access.revoked': 0.1,
};
const SYSTEM_ACTORS = [
  { type: 'system', id: 'system_scanner', email: null, name: 'ComplianceAgent Scanner' },
  { type: 'system', id: 'system_ai', email: null, name: 'ComplianceAgent AI' },
] as const;
export const FRAMEWORKS: Record<string, readonly string[]> = {
  soc2: ['CC6.1', 'CC7.2', 'CC8.1'],
  gdpr: ['art_5', 'art_25', 'art_32'],
  hipaa: ['164.312(a)', '164.312(b)'],
  'pci-dss': ['req_3.4', 'req_10.2'],
  iso27001: ['A.8.15', 'A.8.24'],
};
const FRAMEWORK_NAMES = Object.keys(FRAMEWORKS);
const ISSUE_TITLES = [
  'Missing encryption for PII', 'Unrestricted storage bucket policy', 'Access tokens written to logs', 'No data retention policy',
  'Weak password hashing', 'Unvalidated redirect', 'Missing audit trail for admin actions', 'Hard-coded credentials',
];
const FILES = ['src/models/user.py', 'src/utils/encryption.py', 'src/api/auth.ts', 'config/storage.tf', 'src/logging/handler.go', 'app/settings.py'];
const SETTINGS = ['scan.schedule', 'frameworks.enabled', 'notifications.slack', 'autofix.enabled', 'severity.threshold'];
const ROLES = ['viewer', 'developer', 'admin', 'auditor'];
const POPULATION = 25;
const DOMAIN = 'acme.com';

/** Salts of the per-entry draws. */
const S = { type: 20, system: 21, person: 22, repo: 23, id: 24, systemActor: 25, item: 26, detail: 27, ip: 28, ua: 29, session: 30 } as const;

/** The fields filters and statistics need, computed without building the entry. */
export interface EntryAttributes {
  eventType: RawEventType;
  actorType: 'user' | 'system';
  actorId: string;
  actorEmail: string | null;
  repository: (typeof REPOSITORIES)[number];
  /** `details.framework`, for issue and fix events. */
  framework: string | null;
}

/** A tampering a test applies to the stored log. */
export type Tampering = 'modify' | 'delete';

/** The event type of entry `index`. */
function eventTypeOf(seed: number, index: number): RawEventType {
  let roll = pick(seed, index, S.type, 100);
  for (const [type, weight] of TYPE_WEIGHTS) {
    if (roll < weight) return type;
    roll -= weight;
  }
  return 'scan.completed';
}

/** The id of entry `index`: 8 hex of noise + the index in 8 hex, so it maps back without a table. */
export function logIdOf(seed: number, index: number): string {
  return `log_${hex(seed, index, S.id, 8)}${index.toString(16).padStart(8, '0')}`;
}

/**
 * The entries of one simulated organisation, their hash chain and the tamperings applied to them.
 * Index 0 is the oldest entry and the start of the chain.
 */
export class ComplianceAgentData {
  readonly seed: number;
  /**
   * The digests of entries 0 to `hashed - 1`, 32 bytes each: the chain is sequential (entry i's
   * hash covers entry i-1's), so asking for one entry hashes every older one not yet hashed, and
   * each entry is hashed once however a client pages.
   */
  private digests = Buffer.alloc(0);
  private hashed = 0;
  private readonly tampered = new Map<number, Tampering>();
  /** Bumped on every tampering, so cached filter results keyed by it go stale. */
  version = 0;

  constructor(readonly dataset: SyntheticDataset) {
    this.seed = dataset.seed;
  }

  get size(): number {
    return this.dataset.size;
  }

  attributes(index: number): EntryAttributes {
    const seed = this.seed;
    const eventType = eventTypeOf(seed, index);
    const repository = REPOSITORIES[Math.floor(REPOSITORIES.length * unit(seed, index, S.repo) ** 1.6)]!;
    const framework = /^(issue|fix)\./.test(eventType) ? choose(FRAMEWORK_NAMES, seed, index, S.detail) : null;
    if (unit(seed, index, S.system) < SYSTEM_SHARE[eventType]) {
      const actor = eventType === 'fix.generated' ? SYSTEM_ACTORS[1] : SYSTEM_ACTORS[0];
      return { eventType, actorType: 'system', actorId: actor.id, actorEmail: null, repository, framework };
    }
    const r = unit(seed, index, S.person);
    const person = personOf(Math.floor(POPULATION * r * r), DOMAIN);
    return { eventType, actorType: 'user', actorId: `user_${1000 + person.n}`, actorEmail: person.email, repository, framework };
  }

  /** Entry `index` as originally recorded, without `hash` and `previous_hash`. */
  content(index: number): Omit<RawAuditLogEntry, 'hash' | 'previous_hash'> {
    const seed = this.seed;
    const a = this.attributes(index);
    const actor =
      a.actorType === 'system'
        ? { ...(a.actorId === 'system_ai' ? SYSTEM_ACTORS[1] : SYSTEM_ACTORS[0]) }
        : { type: 'user', id: a.actorId, email: a.actorEmail, name: personOf(Number(a.actorId.slice(5)) - 1000, DOMAIN).name };
    const item = 100 + pick(seed, index, S.item, 900);
    const d = mix(seed, index, S.detail);
    const requirement = a.framework ? choose(FRAMEWORKS[a.framework] ?? ['general'], seed, index, S.detail + 1) : null;
    const title = choose(ISSUE_TITLES, seed, item, S.item);
    let resource: RawAuditLogEntry['resource'];
    let details: Record<string, unknown>;
    switch (a.eventType.split('.')[0]) {
      case 'scan':
        resource = { type: 'scan', id: `scan_${index.toString(36)}`, name: d % 3 === 0 ? 'Pull request scan' : 'Scheduled compliance scan' };
        details =
          a.eventType === 'scan.started'
            ? { trigger: choose(['schedule', 'pull_request', 'manual'], seed, index, S.detail + 2), frameworks: ['soc2', choose(FRAMEWORK_NAMES, seed, index, S.detail + 3)] }
            : { duration_seconds: 20 + (d % 600), issues_found: d % 7, score: 60 + (d % 41) };
        break;
      case 'issue':
        resource = { type: 'issue', id: `issue_${item}`, name: title };
        details =
          a.eventType === 'issue.created'
            ? { severity: choose(['low', 'medium', 'high', 'critical'], seed, index, S.detail + 2), framework: a.framework, requirement, file: choose(FILES, seed, index, S.detail + 3) }
            : a.eventType === 'issue.updated'
              ? { previous_status: 'open', new_status: 'in_progress', framework: a.framework }
              : { previous_status: 'in_progress', new_status: 'fixed', fix_method: 'pull_request', pr_number: 100 + (d % 900), framework: a.framework };
        break;
      case 'fix':
        resource = { type: 'fix', id: `fix_${index.toString(36)}`, issue_id: `issue_${item}` };
        details =
          a.eventType === 'fix.generated'
            ? { fix_type: choose(['encryption', 'access_control', 'logging', 'configuration'], seed, index, S.detail + 2), summary: `Proposed fix for ${title}`, framework: a.framework, requirement }
            : {
                fix_type: choose(['encryption', 'access_control', 'logging', 'configuration'], seed, index, S.detail + 2),
                files_changed: [choose(FILES, seed, index, S.detail + 3), choose(FILES, seed, index, S.detail + 4)],
                pull_request: { url: `https://github.com/${a.repository.name}/pull/${100 + (d % 900)}`, number: 100 + (d % 900) },
                framework: a.framework,
                requirement,
              };
        break;
      case 'config': {
        const setting = choose(SETTINGS, seed, index, S.detail + 2);
        resource = { type: 'config', id: `cfg_${a.repository.id.slice(5)}`, name: setting };
        details = { setting, previous_value: String(d % 5), new_value: String((d >>> 3) % 5) };
        break;
      }
      default: {
        const subject = personOf(pick(seed, index, S.detail + 2, POPULATION), DOMAIN);
        resource = { type: 'user', id: `user_${1000 + subject.n}`, name: subject.name };
        details = { role: choose(ROLES, seed, index, S.detail + 3), email: subject.email };
      }
    }
    const system = a.actorType === 'system';
    return {
      id: logIdOf(seed, index),
      event_type: a.eventType,
      actor,
      resource,
      repository: { id: a.repository.id, name: a.repository.name },
      details,
      ip_address: system ? `10.20.0.${1 + (d % 200)}` : clientIpFor(seed, index, S.ip),
      user_agent: system ? 'ComplianceAgent-Worker/2.4' : userAgentFor(seed, index, S.ua),
      session_id: system ? null : `sess_${hex(seed, Math.floor(index / 40), S.session, 12)}`,
      request_id: `req_${hex(seed, index, S.session + 1, 12)}`,
      timestamp: new Date(this.dataset.timeOf(index)).toISOString(),
    };
  }

  /** The stored `hash` of entry `index` (computed over the original content). */
  hashOf(index: number): string {
    return HASH_PREFIX + this.digestOf(index).toString('hex');
  }

  /** Entry `index` as served in the list form, with tampering applied; null when deleted. */
  entry(index: number): RawAuditLogEntry | null {
    const tampering = this.tampered.get(index);
    if (tampering === 'delete') return null;
    const content = this.content(index);
    // A "changed byte" after the fact: the content differs, the stored hash does not.
    if (tampering === 'modify') content.details = { ...content.details, tampered: true };
    return { ...content, hash: this.hashOf(index), previous_hash: index === 0 ? null : this.hashOf(index - 1) };
  }

  /** Entry `index` in the single-entry form (`metadata` block); null when deleted. */
  singleEntry(index: number): RawAuditLogSingleEntry | null {
    const entry = this.entry(index);
    if (!entry) return null;
    const { ip_address, user_agent, session_id, request_id, timestamp, hash, previous_hash, ...rest } = entry;
    return { ...rest, metadata: { ip_address, user_agent, session_id, request_id }, timestamp, hash, previous_hash };
  }

  /** The index of a `log_…` id, or null (unknown, or deleted). */
  indexOfId(id: string): number | null {
    const match = /^log_[0-9a-f]{8}([0-9a-f]{8})$/.exec(id);
    if (!match) return null;
    const index = parseInt(match[1]!, 16);
    if (index >= this.size || logIdOf(this.seed, index) !== id || this.tampered.get(index) === 'delete') return null;
    return index;
  }

  /** Applies a tampering to entry `index` (tests: make verification fail). */
  tamper(index: number, kind: Tampering): void {
    if (index < 0 || index >= this.size) throw new RangeError(`no entry ${index}`);
    this.tampered.set(index, kind);
    this.version += 1;
  }

  isDeleted(index: number): boolean {
    return this.tampered.get(index) === 'delete';
  }

  get hasDeletions(): boolean {
    for (const kind of this.tampered.values()) if (kind === 'delete') return true;
    return false;
  }

  /** Index range `[lo, hi)` of the entries with `fromMs <= time < toMs`. */
  window(fromMs: number | null, toMs: number | null): [number, number] {
    const lo = fromMs === null ? 0 : this.dataset.lowerBound(fromMs);
    const hi = toMs === null ? this.size : this.dataset.lowerBound(toMs);
    return [lo, Math.max(lo, hi)];
  }

  /** Digest of entry `index` (a view into the stored digests). */
  private digestOf(index: number): Buffer {
    if (index >= this.hashed) this.hashThrough(index);
    return this.digests.subarray(index * DIGEST_BYTES, (index + 1) * DIGEST_BYTES);
  }

  private hashThrough(index: number): void {
    const needed = (index + 1) * DIGEST_BYTES;
    if (this.digests.length < needed) {
      const grown = Buffer.alloc(Math.max(needed, this.digests.length * 2, Math.min(this.size, 1024) * DIGEST_BYTES));
      this.digests.copy(grown, 0, 0, this.hashed * DIGEST_BYTES);
      this.digests = grown;
    }
    let previous: string | null = this.hashed === 0 ? null : HASH_PREFIX + this.digestOf(this.hashed - 1).toString('hex');
    for (let i = this.hashed; i <= index; i++) {
      const digest = entryDigest({ ...this.content(i), previous_hash: previous });
      digest.copy(this.digests, i * DIGEST_BYTES);
      previous = HASH_PREFIX + digest.toString('hex');
    }
    this.hashed = index + 1;
  }
}
