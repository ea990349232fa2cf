import type { Readable } from 'node:stream';

/** One line of a stream: its text (UTF-8, without the line feed) and its exact bytes (with it). */
export interface StreamLine {
  text: string;
  raw: Buffer;
  /** False only for a last line that has no line feed. */
  terminated: boolean;
}

/**
 * The lines of a stream, split on LF only: a CR stays part of its line, so that a verifier sees
 * every byte (readline would drop a CR before LF silently).
 */
export async function* splitLines(stream: Readable): AsyncGenerator<StreamLine> {
  let carry: Buffer | null = null;
  for await (const chunk of stream) {
    let buffer = chunk as Buffer;
    let start = 0;
    for (let end = buffer.indexOf(10); end >= 0; end = buffer.indexOf(10, start)) {
      let raw = buffer.subarray(start, end + 1);
      if (carry) {
        raw = Buffer.concat([carry, raw]);
        carry = null;
      }
      yield { text: raw.toString('utf8', 0, raw.length - 1), raw, terminated: true };
      start = end + 1;
    }
    if (start < buffer.length) {
      buffer = buffer.subarray(start);
      carry = carry ? Buffer.concat([carry, buffer]) : Buffer.from(buffer);
    }
  }
  if (carry) yield { text: carry.toString('utf8'), raw: carry, terminated: false };
}

/** Line feeds in `text`. */
export function lineFeeds(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}
