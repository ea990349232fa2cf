import type { AuditEventModel } from '../models/audit-event';
import { EventText } from './event-text';
import type { SearchQuery } from './query-parser';

/** The gateway's test of a search query: every term occurs in a value of its part. */
export function searchMatcher(query: SearchQuery): (event: AuditEventModel) => boolean {
  return (event) => {
    const text = new EventText(event);
    return query.terms.every((term) => text.valuesOf(term.part).some((value) => value.lower.includes(term.text)));
  };
}

/** Where a hit matched, and the text to show for it. */
export interface HitExplanation {
  matchedFields: string[];
  snippet: string;
}

/** Characters of context kept on each side of the first match. */
const CONTEXT = 40;

/**
 * Where the terms of `query` occur in `event` (paths, sorted), and a snippet: the first term's
 * first match in its value, with context either side, HTML-escaped, every match of any term in
 * `<em>`, prefixed by the value's path.
 */
export function explainHit(query: SearchQuery, event: AuditEventModel): HitExplanation {
  const text = new EventText(event);
  const matched = new Set<string>();
  let first: { path: string; text: string; lower: string; at: number; length: number } | null = null;
  for (const term of query.terms) {
    for (const value of text.valuesOf(term.part)) {
      const at = value.lower.indexOf(term.text);
      if (at < 0) continue;
      matched.add(value.path);
      first ??= { ...value, at, length: term.text.length };
    }
  }
  if (!first) return { matchedFields: [], snippet: '' };
  // Lower-casing a few characters changes their length; such a value is shown lower-cased so that positions agree.
  if (first.lower.length !== first.text.length) first.text = first.lower;
  const start = Math.max(0, first.at - CONTEXT);
  const end = Math.min(first.text.length, first.at + first.length + CONTEXT);
  const marks = markMatches(first.lower, start, end, query.terms.map((term) => term.text));
  let snippet = `${first.path}: ${start > 0 ? '…' : ''}`;
  let cursor = start;
  for (const [from, to] of marks) {
    snippet += `${escapeHtml(first.text.slice(cursor, from))}<em>${escapeHtml(first.text.slice(from, to))}</em>`;
    cursor = to;
  }
  snippet += `${escapeHtml(first.text.slice(cursor, end))}${end < first.text.length ? '…' : ''}`;
  return { matchedFields: [...matched].sort(), snippet };
}

/** Non-overlapping `[from, to)` spans of `needles` in `lower[start, end)`, leftmost first, longest on a tie. */
function markMatches(lower: string, start: number, end: number, needles: readonly string[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const needle of needles) {
    for (let at = lower.indexOf(needle, start); at >= 0 && at + needle.length <= end; at = lower.indexOf(needle, at + 1)) spans.push([at, at + needle.length]);
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const kept: Array<[number, number]> = [];
  for (const span of spans) if (kept.length === 0 || span[0] >= kept[kept.length - 1]![1]) kept.push(span);
  return kept;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
