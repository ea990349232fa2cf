import { createHash } from 'node:crypto';
import { canonicalJson } from '../../models/canonical-json';
import { unplaceableReason } from './normalize';

/**
 * ComplianceAgent's hash chain, as this project fixes it (the vendor's page never says):
 * entries are chained oldest first across the whole organisation; an entry's
 * `hash = "sha256:" + hex(sha256(canonicalJson(entry without "hash")))`, where the entry includes
 * its own `previous_hash` (null for the first entry), so each hash commits to the whole past.
 * The simulator and the datasource both use this module, so they cannot drift apart.
 */

/** The prefix of every hash on the wire. */
export const HASH_PREFIX = 'sha256:';

/** The raw 32-byte SHA-256 of an entry (its `hash` field excluded). */
export function entryDigest(entry: Readonly<Record<string, unknown>>): Buffer {
  return createHash('sha256').update(canonicalJson(entry, 'hash'), 'utf8').digest();
}

/** `sha256:<hex>` of an entry (its `hash` field excluded). */
export function entryHash(entry: Readonly<Record<string, unknown>>): string {
  return HASH_PREFIX + entryDigest(entry).toString('hex');
}

/**
 * The digest of a verification run: `sha256:` + hex of SHA-256 over the checked entries' stored
 * hashes, oldest first, joined by `\n`. The simulator's `verification_hash` uses the same rule, so
 * a client that read the window itself can compare its digest with the upstream's.
 */
export class VerificationDigest {
  private readonly hasher = createHash('sha256');
  private first = true;

  add(hash: string): void {
    this.hasher.update(this.first ? hash : `\n${hash}`, 'utf8');
    this.first = false;
  }

  finish(): string {
    return HASH_PREFIX + this.hasher.digest('hex');
  }
}

/** What went wrong at one position of a checked list. */
export type ChainProblemKind =
  /** The stored hash is not the hash of the entry's content: the entry was changed. */
  | 'hash_mismatch'
  /** The entry has no usable `hash` string. */
  | 'missing_hash'
  /**
   * The entry has no id or no readable timestamp, so the gateway cannot list it (its hash and
   * links are still checked): a chain with such an entry is not one the gateway can show whole.
   */
  | 'unplaceable'
  /** `previous_hash` names neither the entry before nor the one before that: entries are missing here. */
  | 'missing_record'
  /** The entry at this index does not belong here: the next entry links past it. */
  | 'inserted_record'
  /** `previous_hash` names a later entry of the list: entries were swapped or moved. */
  | 'reordered'
  /** The entry's timestamp is older than the one before it. */
  | 'out_of_order'
  /** The list has fewer or more entries than expected (`expectedCount`); index = the expected count. */
  | 'count_mismatch'
  /** The last entry's hash is not `expectedLastHash` (a cut tail); index = the last index. */
  | 'last_hash_mismatch';

export interface ChainProblem {
  /** Position in the list given to {@link verifyChain}, 0-based. */
  index: number;
  kind: ChainProblemKind;
}

/** Options of {@link verifyChain} and {@link ChainWalker}. */
export interface VerifyChainOptions {
  /**
   * The `previous_hash` the first entry must carry: null for a list that starts at the
   * organisation's first entry; undefined (default) to accept whatever the first entry links to,
   * as for a window that starts mid-chain.
   */
  previousHash?: string | null;
  /** The number of entries the list must have (e.g. from a signed manifest). */
  expectedCount?: number;
  /** The hash the last entry must have (e.g. from a signed manifest); catches a cut tail. */
  expectedLastHash?: string | null;
  /**
   * Checks and reports only the entries it accepts (e.g. one repository's). The others still
   * carry the chain: the chain is organisation-wide, so an accepted entry's link is checked
   * against whatever entry precedes it, as the vendor's own check does.
   */
  include?: (entry: Readonly<Record<string, unknown>>) => boolean;
}

/** The result of {@link verifyChain}. */
export interface ChainVerification {
  /** True when no problem was found. */
  valid: boolean;
  /** Entries checked (with `include`, the accepted ones). */
  checked: number;
  /** Entries whose content does not hash to their stored hash. */
  hashMismatches: number;
  /** Links that do not point at the entry before (missing, inserted or reordered entries), counted at the entry whose link is broken. */
  gapsDetected: number;
  /** Entries the gateway cannot place (no id or readable time). */
  unplaceable: number;
  /** Index of the first problem, or null. */
  firstBadIndex: number | null;
  /** Every problem found, in index order; at most 1,000 are kept. */
  problems: ChainProblem[];
  /** See {@link VerificationDigest}; over the stored hashes as received. */
  verificationHash: string;
  /** Stored hash of the last entry, or null for an empty list. */
  lastHash: string | null;
}

const MAX_PROBLEMS = 1000;

/** A problem and the tag its entry was pushed with. */
export interface TaggedProblem<T> extends ChainProblem {
  tag: T | undefined;
}

/** What {@link ChainWalker.finish} answers: the verification, and the problems with their entries' tags. */
export interface ChainWalk<T> {
  verification: ChainVerification;
  /** The same problems as `verification.problems`, with tags. */
  tagged: TaggedProblem<T>[];
  /** The first problem of each kind, even past the {@link MAX_PROBLEMS} kept. */
  firstByKind: ReadonlyMap<ChainProblemKind, TaggedProblem<T>>;
}

/** One entry already walked, as the checks of the entries after it need it. */
interface Walked<T> {
  hash: string | null;
  included: boolean;
  tag: T | undefined;
}

/**
 * Verifies a chain one entry at a time, oldest first, in constant memory: a window of millions
 * of entries is checked as it is read, never held whole. Each entry's content is hashed and
 * compared with its `hash`, and each `previous_hash` with the hash of the entry before; a broken
 * link is classified by looking one entry further back and forward (so its verdict waits for the
 * next entry), and a deletion, an insertion and a swap each name the index where the list stops
 * being the original. An entry the gateway cannot place (no id or readable timestamp) is checked
 * like any other and also reported as `unplaceable`, so a list read from the vendor is never
 * judged whole while the gateway could not show all of it. `tag` travels with an entry's problems
 * (e.g. the event it was read as).
 */
export class ChainWalker<T = undefined> {
  private index = 0;
  private checked = 0;
  private hashMismatches = 0;
  private gapsDetected = 0;
  private unplaceable = 0;
  private firstBadIndex: number | null = null;
  private readonly problems: TaggedProblem<T>[] = [];
  private readonly firstByKind = new Map<ChainProblemKind, TaggedProblem<T>>();
  private readonly digest = new VerificationDigest();
  private previousTime = -Infinity;
  private back1: Walked<T> | null = null;
  private back2: Walked<T> | null = null;
  /** A broken link whose kind the next entry decides: `reordered` when it is the entry linked to, else `missing_record`. */
  private pendingBreak: { index: number; link: unknown; entry: Walked<T> } | null = null;

  constructor(private readonly options: VerifyChainOptions = {}) {}

  push(entry: Readonly<Record<string, unknown>>, tag?: T): void {
    const i = this.index++;
    const stored = hashOf(entry);
    const walked: Walked<T> = { hash: stored, included: this.options.include ? this.options.include(entry) : true, tag };
    if (this.pendingBreak !== null) {
      const pending = this.pendingBreak;
      this.pendingBreak = null;
      this.report(pending.index, pending.link === stored ? 'reordered' : 'missing_record', pending.entry);
    }

    if (walked.included) {
      this.checked += 1;
      if (unplaceableReason(entry) !== null) {
        this.unplaceable += 1;
        this.report(i, 'unplaceable', walked);
      }
      if (stored === null) {
        this.hashMismatches += 1;
        this.report(i, 'missing_hash', walked);
      } else {
        this.digest.add(stored);
        if (entryHash(entry) !== stored) {
          this.hashMismatches += 1;
          this.report(i, 'hash_mismatch', walked);
        }
      }
    }

    const link = entry['previous_hash'] ?? null;
    if (this.back1 === null) {
      if (this.options.previousHash !== undefined && link !== this.options.previousHash) {
        if (walked.included) this.gapsDetected += 1;
        this.report(0, 'missing_record', walked);
      }
    } else if (link !== this.back1.hash) {
      if (walked.included) this.gapsDetected += 1;
      if (this.back2 !== null && link !== null && link === this.back2.hash) this.report(i - 1, 'inserted_record', this.back1);
      else if (link !== null) this.pendingBreak = { index: i, link, entry: walked };
      else this.report(i, 'missing_record', walked);
    }

    const time = Date.parse(typeof entry['timestamp'] === 'string' ? entry['timestamp'] : '');
    if (time < this.previousTime) this.report(i, 'out_of_order', walked);
    if (!Number.isNaN(time)) this.previousTime = time;
    this.back2 = this.back1;
    this.back1 = walked;
  }

  finish(): ChainWalk<T> {
    if (this.pendingBreak !== null) {
      this.report(this.pendingBreak.index, 'missing_record', this.pendingBreak.entry);
      this.pendingBreak = null;
    }
    const count = this.index;
    const lastHash = this.back1?.hash ?? null;
    const whole: Walked<T> = { hash: null, included: true, tag: undefined };
    if (this.options.expectedCount !== undefined && this.options.expectedCount !== count) {
      this.report(Math.min(this.options.expectedCount, count), 'count_mismatch', whole);
    }
    if (this.options.expectedLastHash !== undefined && this.options.expectedLastHash !== lastHash) {
      this.report(Math.max(0, count - 1), 'last_hash_mismatch', whole);
    }
    const tagged = [...this.problems].sort((a, b) => a.index - b.index);
    return {
      verification: {
        valid: this.firstBadIndex === null,
        checked: this.checked,
        hashMismatches: this.hashMismatches,
        gapsDetected: this.gapsDetected,
        unplaceable: this.unplaceable,
        firstBadIndex: this.firstBadIndex,
        problems: tagged.map(({ index, kind }) => ({ index, kind })),
        verificationHash: this.digest.finish(),
        lastHash,
      },
      tagged,
      firstByKind: this.firstByKind,
    };
  }

  /** Records a problem at `index` of `entry`, unless `include` leaves that entry out. */
  private report(index: number, kind: ChainProblemKind, entry: Walked<T>): void {
    if (!entry.included) return;
    if (this.firstBadIndex === null || index < this.firstBadIndex) this.firstBadIndex = index;
    const problem: TaggedProblem<T> = { index, kind, tag: entry.tag };
    const first = this.firstByKind.get(kind);
    if (!first || index < first.index) this.firstByKind.set(kind, problem);
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
  }
}

/**
 * Recomputes the chain over `entries` (oldest first, in the list form: `hash`, `previous_hash`,
 * `timestamp` at the top level); see {@link ChainWalker}. Linear time.
 */
export function verifyChain(entries: readonly Readonly<Record<string, unknown>>[], options: VerifyChainOptions = {}): ChainVerification {
  const walker = new ChainWalker(options);
  for (const entry of entries) walker.push(entry);
  return walker.finish().verification;
}

/** The stored `sha256:` hash of an entry, or null when it has none usable. */
export function hashOf(entry: Readonly<Record<string, unknown>>): string | null {
  const hash = entry['hash'];
  return typeof hash === 'string' && hash.startsWith(HASH_PREFIX) ? hash : null;
}
