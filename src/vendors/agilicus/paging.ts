import type { Direction, SourceQuery } from '../../sources/data-source';

/**
 * Paging math for a limit-only API read by sliding a time window, as pure functions.
 *
 * Everything here is in *forward* milliseconds: the time itself when listing newest first, its
 * negation when listing oldest first. A traversal then always walks from high forward times to
 * low ones, and one set of rules serves both directions. Ranges are inclusive at both ends
 * (`[bottom, top]`); ±Infinity stands for an open end.
 *
 * The upstream returns at most `limit` records of a window and does not document which ones.
 * A full page of a newest-first upstream holds the newest records of the window: in forward
 * terms the *near* side when listing newest first, the *far* side when listing oldest first.
 * - near side: every record above the page's lowest forward time is known; the lowest timestamp
 *   may be cut, so it is re-read next time (or read whole when the page is one timestamp).
 * - far side: nothing near the top is known, so the window is narrowed towards the top until a
 *   page is not full ({@link judgePage} `shrink`). Oldest-first listing costs extra requests.
 */

/** A forward time. */
export function forward(direction: Direction, ms: number): number {
  return direction === 'DESC' ? ms : -ms;
}

/** The forward range a query covers: `[low, top]`. */
export function queryRange(direction: Direction, query: SourceQuery): { low: number; top: number } {
  const { fromMs, toMs } = query;
  if (direction === 'DESC') {
    return { low: fromMs ?? -Infinity, top: toMs === null ? Infinity : toMs - 1 };
  }
  return { low: toMs === null ? -Infinity : -(toMs - 1), top: fromMs === null ? Infinity : -fromMs };
}

/** The upstream window (`dt_from` inclusive, `dt_to` exclusive, ms; null = open) of a forward range. */
export function upstreamWindow(direction: Direction, bottom: number, top: number): { fromMs: number | null; toMs: number | null } {
  const [lo, hi] = direction === 'DESC' ? [bottom, top] : [-top, -bottom];
  return { fromMs: Number.isFinite(lo) ? lo : null, toMs: Number.isFinite(hi) ? hi + 1 : null };
}

/** What one page of a window `[bottom, top]` showed. */
export interface PageFacts {
  /** Forward times of the records, in any order. */
  times: readonly number[];
  /** True when the page holds as many records as the applied limit: more may exist. */
  full: boolean;
  /**
   * True when the upstream picked the records nearest `top`, false for the farthest (see the
   * module comment); null when not known: the page is one timestamp and no earlier one showed
   * the upstream's order.
   */
  nearSide: boolean | null;
}

/** What to do after a page. */
export type PageVerdict =
  /** Every record of `[from, top]` is in the page. */
  | { kind: 'complete'; from: number }
  /** Read the whole timestamp `at`; then every record of `[from, top]` is known. */
  | { kind: 'group'; at: number; from: number }
  /** Nothing usable: probe `[bottom, top]` next, with `gap` as the step after that. */
  | { kind: 'shrink'; bottom: number; gap: number | null };

/**
 * Judges a page of the window `[bottom, top]`. `gap`, when set, is the next far-side step: with
 * an open top it doubles on each full page (so finding the far end of the records costs a
 * logarithmic number of requests); with a closed top it is the width to narrow the window to.
 */
export function judgePage(bottom: number, top: number, page: PageFacts, gap: number | null): PageVerdict {
  if (!page.full || page.times.length === 0) return { kind: 'complete', from: bottom };
  const low = Math.min(...page.times);
  const high = Math.max(...page.times);
  if (page.nearSide === null) {
    // One timestamp, side unknown. At the top, reading it whole is right either way. Below it,
    // only the far-side reading is safe (the near-side one would skip what lies above), so ask
    // for exactly what lies above: an empty answer there settles it for a near-side upstream.
    if (high >= top) return { kind: 'group', at: high, from: high };
    return { kind: 'shrink', bottom: high + 1, gap };
  }
  if (page.nearSide) {
    // A page of one timestamp says nothing below it, and may not even hold all of it.
    return low < high ? { kind: 'complete', from: low + 1 } : { kind: 'group', at: low, from: low };
  }
  // Far side: the page is complete below `high`; only a cut top group stops it covering the window.
  if (high >= top) return { kind: 'group', at: top, from: bottom };
  if (!Number.isFinite(top)) {
    const step = gap ?? high - low + 1;
    return { kind: 'shrink', bottom: high + step, gap: step * 2 };
  }
  // Aim at half a page, judging by the density of the page just read, unless the caller knows
  // a better width (`gap`); but keep at least half of the unknown span above the page, so that a
  // dense burst cannot collapse the window to a few ms (this makes the worst case a bisection).
  // Always above `high`, so each shrink makes progress.
  const width = Math.max(gap ?? Math.floor((high - low + 1) / 2), Math.floor((top - high) / 2), 1);
  return { kind: 'shrink', bottom: Math.max(high + 1, top - width + 1), gap: null };
}

/**
 * The width of the next far-side probe after a page that was not full: wide enough for about
 * half a page at the density just seen, between half and 16 times the last width.
 */
export function nextProbeWidth(lastWidth: number, records: number, limit: number): number {
  const aimed = Math.floor((lastWidth * limit) / 2 / Math.max(1, records));
  return Math.max(1, Math.min(lastWidth * 16, Math.max(Math.floor(lastWidth / 2), aimed)));
}
