import { createHash } from 'node:crypto';
import { canonicalHalves, canonicalJson } from '../models/canonical-json';

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

/** Where a chained line's text is encoded: UTF-8, appended in order. */
export interface LineSink {
  /** Appends `text` as UTF-8 and returns a view of exactly the bytes appended, valid until they are handed on. */
  append(text: string): Buffer;
}

const CHAIN_MEMBER_OPENING = `"${CHAIN_MEMBER}":"`;
/** Stands for the link in the line while its hash is taken; overwritten in place by the link. */
const LINK_PLACEHOLDER = `${CHAIN_MEMBER_OPENING}${'0'.repeat(64)}"`;

/**
 * Appends the line for `event` after `previous` to `sink` (without the newline) and returns its
 * chain hash. The line is the canonical JSON of the event with `chainHash` added in its sorted
 * place; the hash is over the same text without that member. Both are taken from the bytes as they
 * are appended: the event's members are serialised and encoded once, for the hash and the line
 * alike, and the link is written into the space left for it.
 */
export function appendChainedLine(sink: LineSink, event: Readonly<Record<string, unknown>>, previous: string): string {
  if (CHAIN_MEMBER in event) throw new TypeError(`an exported event must not have a '${CHAIN_MEMBER}' member of its own`);
  const { before, after } = canonicalHalves(event, CHAIN_MEMBER);
  const hash = createHash('sha256').update(previous, 'latin1');
  // The hashed text is `{before,after}`: the line's bytes around the member, one comma between.
  const opening = sink.append(before === '' ? '{' : `{${before},`);
  hash.update(before === '' ? opening : opening.subarray(0, opening.length - 1));
  if (before !== '' && after !== '') hash.update(',', 'latin1');
  const link = sink.append(LINK_PLACEHOLDER);
  const closing = sink.append(after === '' ? '}' : `,${after}}`);
  hash.update(after === '' ? closing : closing.subarray(1));
  const chainHash = hash.digest('hex');
  link.write(chainHash, CHAIN_MEMBER_OPENING.length, 'latin1');
  return chainHash;
}

/** The line for `event` after `previous`, as a string: what {@link appendChainedLine} appends. */
export function chainedLine(event: Readonly<Record<string, unknown>>, previous: string): ChainedLine {
  const pieces: Buffer[] = [];
  const chainHash = appendChainedLine({ append: (text) => pieces[pieces.push(Buffer.from(text, 'utf8')) - 1]! }, event, previous);
  return { line: Buffer.concat(pieces).toString('utf8'), chainHash };
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
