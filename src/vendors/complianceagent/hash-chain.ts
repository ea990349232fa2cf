import { createHash } from 'node:crypto';
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

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit (JavaScript's default sort) at every
 * level, no whitespace, strings escaped as `JSON.stringify` does; keys whose value is `undefined`
 * are left out, as `JSON.stringify` would. Throws on values JSON cannot carry (NaN, Infinity,
 * functions), because a hash over a lossy encoding would verify things that differ.
 * `omitTopLevelKey` leaves one key of the outermost object out (the entry's own `hash`) without
 * copying the entry.
 */
export function canonicalJson(value: unknown, omitTopLevelKey?: string): string {
  // Hot path of every verification (one call per entry): plain loops and string concatenation,
  // no intermediate arrays, measured about twice as fast as map/join.
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += (i === 0 ? '' : ',') + canonicalJson(item === undefined ? null : item);
        }
        return `${out}]`;
      }
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      if (keys.length > 1) keys.sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = object[key];
        if (item === undefined || key === omitTopLevelKey) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

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

/** Options of {@link verifyChain}. */
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
}

/** The result of {@link verifyChain}. */
export interface ChainVerification {
  /** True when no problem was found. */
  valid: boolean;
  checked: number;
  /** Entries whose content does not hash to their stored hash. */
  hashMismatches: number;
  /** Links that do not point at the entry before (missing, inserted or reordered entries). */
  gapsDetected: number;
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

/**
 * Recomputes the chain over `entries` (oldest first, in the list form: `hash`, `previous_hash`,
 * `timestamp` at the top level). Each entry's content is hashed and compared with its `hash`, and
 * each `previous_hash` with the hash of the entry before; a broken link is classified by looking one
 * entry further back and forward, so a deletion, an insertion and a swap each name the index where
 * the list stops being the original. An entry the gateway cannot place (no id or readable
 * timestamp) is checked like any other and also reported as `unplaceable`, so a list read from
 * the vendor is never judged whole while the gateway could not show all of it. Linear time;
 * memory beyond the input is constant.
 */
export function verifyChain(entries: readonly Readonly<Record<string, unknown>>[], options: VerifyChainOptions = {}): ChainVerification {
  const problems: ChainProblem[] = [];
  let hashMismatches = 0;
  let gapsDetected = 0;
  let firstBadIndex: number | null = null;
  const report = (index: number, kind: ChainProblemKind) => {
    if (firstBadIndex === null || index < firstBadIndex) firstBadIndex = index;
    if (problems.length < MAX_PROBLEMS) problems.push({ index, kind });
  };
  const digest = new VerificationDigest();
  let previousTime = -Infinity;

  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (unplaceableReason(entry) !== null) report(i, 'unplaceable');
    const stored = hashOf(entry);
    if (stored === null) {
      report(i, 'missing_hash');
      hashMismatches += 1;
    } else {
      digest.add(stored);
      if (entryHash(entry) !== stored) {
        report(i, 'hash_mismatch');
        hashMismatches += 1;
      }
    }

    const link = entry['previous_hash'] ?? null;
    if (i === 0) {
      if (options.previousHash !== undefined && link !== options.previousHash) {
        report(0, 'missing_record');
        gapsDetected += 1;
      }
    } else if (link !== hashOf(entries[i - 1]!)) {
      gapsDetected += 1;
      if (i >= 2 && link !== null && link === hashOf(entries[i - 2]!)) report(i - 1, 'inserted_record');
      else if (i + 1 < entries.length && link !== null && link === hashOf(entries[i + 1]!)) report(i, 'reordered');
      else report(i, 'missing_record');
    }

    const time = Date.parse(typeof entry['timestamp'] === 'string' ? entry['timestamp'] : '');
    if (time < previousTime) report(i, 'out_of_order');
    if (!Number.isNaN(time)) previousTime = time;
  }

  const lastHash = entries.length > 0 ? hashOf(entries[entries.length - 1]!) : null;
  if (options.expectedCount !== undefined && options.expectedCount !== entries.length) {
    report(Math.min(options.expectedCount, entries.length), 'count_mismatch');
  }
  if (options.expectedLastHash !== undefined && options.expectedLastHash !== lastHash) {
    report(Math.max(0, entries.length - 1), 'last_hash_mismatch');
  }
  problems.sort((a, b) => a.index - b.index);
  return {
    valid: firstBadIndex === null,
    checked: entries.length,
    hashMismatches,
    gapsDetected,
    firstBadIndex,
    problems,
    verificationHash: digest.finish(),
    lastHash,
  };
}

function hashOf(entry: Readonly<Record<string, unknown>>): string | null {
  const hash = entry['hash'];
  return typeof hash === 'string' && hash.startsWith(HASH_PREFIX) ? hash : null;
}
