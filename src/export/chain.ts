import { createHash } from 'node:crypto';
import { canonicalHalves, canonicalJson } from './canonical';

/** The member each line of `events.jsonl` carries its link of the chain in. */
export const CHAIN_MEMBER = 'chainHash';

/** The hash before the first line: 64 zeros. */
export const CHAIN_START = '0'.repeat(64);

/**
 * One link of the chain: SHA-256, in lower-case hex, of the previous link's 64 hex characters
 * followed by the canonical JSON of this line's event (the line without its `chainHash`), both as
 * UTF-8. Changing, dropping, adding or reordering any line changes every later link.
 */
export function nextChainHash(previous: string, canonicalEvent: string): string {
  return createHash('sha256').update(previous, 'latin1').update(canonicalEvent, 'utf8').digest('hex');
}

/** One line of `events.jsonl` (without its newline) and the chain hash it carries. */
export interface ChainedLine {
  line: string;
  chainHash: string;
}

/**
 * The line for `event` after `previous`: the canonical JSON of the event with `chainHash` added,
 * which is the canonical JSON of the event with that member in its sorted place. The event's
 * members are serialised once, for the hash and the line alike.
 */
export function chainedLine(event: Readonly<Record<string, unknown>>, previous: string): ChainedLine {
  if (CHAIN_MEMBER in event) throw new TypeError(`an exported event must not have a '${CHAIN_MEMBER}' member of its own`);
  const { before, after } = canonicalHalves(event, CHAIN_MEMBER);
  const chainHash = nextChainHash(previous, `{${before}${before !== '' && after !== '' ? ',' : ''}${after}}`);
  const member = `"${CHAIN_MEMBER}":"${chainHash}"`;
  return { line: `{${before === '' ? '' : `${before},`}${member}${after === '' ? '' : `,${after}`}}`, chainHash };
}

/** What a line of `events.jsonl` says, checked against the chain; `problem` names what is wrong. */
export type CheckedLine = { ok: true; event: Record<string, unknown>; chainHash: string } | { ok: false; problem: string };

/**
 * Checks one line (without its newline) against the previous link: it must be JSON, an object
 * with a `chainHash`, written exactly in canonical form, and its hash must follow from `previous`.
 */
export function checkChainedLine(line: string, previous: string): CheckedLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, problem: 'not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, problem: 'not a JSON object' };
  const { [CHAIN_MEMBER]: claimed, ...event } = parsed as Record<string, unknown>;
  if (typeof claimed !== 'string') return { ok: false, problem: `no ${CHAIN_MEMBER}` };
  const expected = nextChainHash(previous, canonicalJson(event));
  if (claimed !== expected) return { ok: false, problem: `${CHAIN_MEMBER} does not follow from the previous line and this line's event` };
  if (canonicalJson(parsed) !== line) return { ok: false, problem: 'not in canonical form (RFC 8785)' };
  return { ok: true, event, chainHash: claimed };
}
