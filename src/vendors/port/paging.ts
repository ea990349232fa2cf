import { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../errors';
import type { AuditEventModel } from '../../models/audit-event';
import type { Direction, SourceQuery } from '../../sources/data-source';

/**
 * Paging over `GET /v1/audit-log`, which has no cursor: only `from`, `to` and `limit`, answered
 * newest first. Every batch is a time range read whole, so batches never overlap and the
 * monotone-batch contract holds by construction.
 *
 * Port does not document whether `from`/`to` are inclusive, so every read widens the range by one
 * millisecond on each side (`from = lo - 1`, `to = hi + 1`) and drops what falls outside
 * `[lo, hi]`: correct under either reading. A response shorter than `limit`, or one that reaches
 * below `lo`, holds everything in the range; a full one may hide older events of its oldest
 * millisecond, so that millisecond is never emitted from it.
 *
 * "Shorter than `limit`" counts the records Port returned, not the events made of them: a record
 * that cannot be placed (record policy) still took one of the `limit` slots, so a full response
 * with such records in it is still full, and the older events behind it are still read.
 */

/** Port's own default `limit`, and the largest the datasource asks for. */
export const MAX_UPSTREAM_LIMIT = 10_000;
/** First `limit` when one millisecond must be read whole (bulk imports put hundreds in one). */
const MILLISECOND_LIMIT = 1_000;
/** Upper bound on window probes in one ASC batch, after which an empty batch hands back the progress made. */
const MAX_ASC_ROUNDS = 8;
/** Largest ASC window: a year, Port's default retention. */
const MAX_WIDTH_MS = 366 * 24 * 3600 * 1000;
/**
 * ASC windows are sized for `FILL` x `limit` events at the density last seen, but read with twice
 * the limit: a window that overflows costs a whole request, a batch somewhat over `limit` costs
 * nothing (measured on the simulator: 144 instead of 298 requests for 10,000 events at 100).
 */
const FILL = 1;

/** The exact `from`/`to` (ms, inclusive or not as the upstream likes) and `limit` of one upstream read. */
export interface UpstreamWindow {
  from: number | null;
  to: number | null;
  limit: number;
}

/** What one upstream read returned. */
export interface WindowRead {
  /** The records that could be placed, normalised. */
  events: AuditEventModel[];
  /** Every record the upstream returned, placeable or not: what `limit` bounds. */
  received: number;
}

/** One upstream read, newest first. */
export type FetchWindow = (window: UpstreamWindow) => Promise<WindowRead>;

/**
 * DESC position: every event of the window at or after `b` (ms, exclusive upper bound of what is
 * left) has been listed. `n` = events known at `b`, asked for on top of `limit` because an
 * inclusive `to` returns them again.
 */
export type DescResume = {
  b: number;
  n: number;
};

/**
 * ASC position: every event before `a` (ms) has been listed. `w` = width of the next window in ms
 * (0 = up to the end); `u` = newest event time seen, the point where a window without an upper
 * bound must be read open-ended to also see events that arrived since.
 */
export type AscResume = {
  a: number;
  w: number;
  u: number | null;
};

/** One batch and where the next starts. */
export interface PagedBatch<State> {
  events: AuditEventModel[];
  next: State | null;
}

interface RangeRead {
  /** Events inside `[lo, hi]`, de-duplicated on id. */
  events: AuditEventModel[];
  /** True when nothing in `[lo, hi]` was left out. */
  complete: boolean;
}

async function readRange(fetch: FetchWindow, lo: number | null, hi: number | null, limit: number): Promise<RangeRead> {
  const got = await fetch({ from: lo === null ? null : lo - 1, to: hi === null ? null : hi + 1, limit });
  const seen = new Set<string>();
  const events: AuditEventModel[] = [];
  let passedLow = false;
  for (const event of got.events) {
    const t = event.occurredAtMs;
    if (lo !== null && t < lo) passedLow = true;
    else if ((hi === null || t <= hi) && !seen.has(event.sourceEventId)) {
      seen.add(event.sourceEventId);
      events.push(event);
    }
  }
  return { events, complete: got.received < limit || passedLow };
}

function overflow(sourceId: string, atMs: number): UpstreamError {
  // Truncating would lose events silently; no larger `limit` exists to ask for.
  return new UpstreamError(ErrorCode.UpstreamResponseTooLarge, sourceId, {
    logDetail: { reason: `more than ${MAX_UPSTREAM_LIMIT} audit logs in one millisecond`, atMs },
  });
}

/** Every event of millisecond `ms`, asking for more than a page because ties can outnumber `limit`. */
async function readMillisecond(fetch: FetchWindow, sourceId: string, ms: number, atLeast: number): Promise<AuditEventModel[]> {
  for (let limit = Math.min(MAX_UPSTREAM_LIMIT, Math.max(MILLISECOND_LIMIT, atLeast * 2)); ; limit = MAX_UPSTREAM_LIMIT) {
    const read = await readRange(fetch, ms, ms, limit);
    if (read.complete) return read.events;
    if (limit >= MAX_UPSTREAM_LIMIT) throw overflow(sourceId, ms);
  }
}

function timeBounds(events: readonly AuditEventModel[]): { oldest: number; newest: number } {
  let oldest = Infinity;
  let newest = -Infinity;
  for (const event of events) {
    if (event.occurredAtMs < oldest) oldest = event.occurredAtMs;
    if (event.occurredAtMs > newest) newest = event.occurredAtMs;
  }
  return { oldest, newest };
}

/** Newest first: read down from the bound; emit everything newer than the oldest millisecond of a full read. */
export async function pageDesc(
  fetch: FetchWindow,
  sourceId: string,
  query: SourceQuery,
  resume: DescResume | null,
  limit: number,
): Promise<PagedBatch<DescResume>> {
  const lo = query.fromMs;
  const bound = resume ? resume.b : query.toMs;
  const hi = bound === null ? null : bound - 1;
  if (lo !== null && hi !== null && hi < lo) return { events: [], next: null };

  for (let ask = Math.min(MAX_UPSTREAM_LIMIT, limit + (resume?.n ?? 0)); ; ask = Math.min(MAX_UPSTREAM_LIMIT, ask * 2)) {
    const read = await readRange(fetch, lo, hi, ask);
    if (read.complete) return { events: read.events, next: null };
    if (read.events.length === 0) {
      // Every slot went to already-listed events at the bound (an inclusive `to`) or to records
      // that cannot be placed: ask for more.
      if (ask >= MAX_UPSTREAM_LIMIT) throw overflow(sourceId, bound ?? 0);
      continue;
    }
    const { oldest } = timeBounds(read.events);
    const newer = read.events.filter((event) => event.occurredAtMs > oldest);
    if (newer.length > 0) {
      const atBound = newer.filter((event) => event.occurredAtMs === oldest + 1).length;
      return { events: newer, next: { b: oldest + 1, n: atBound } };
    }
    // One millisecond filled the whole read: more of it may be hidden behind the limit.
    const whole = await readMillisecond(fetch, sourceId, oldest, read.events.length);
    return { events: whole, next: lo !== null && oldest <= lo ? null : { b: oldest, n: whole.length } };
  }
}

/** Width of the next ASC window after one of `width` ms held `count` events. */
function resize(width: number, count: number, limit: number): number {
  if (count === 0) return Math.min(MAX_WIDTH_MS, width * 4);
  return Math.max(1, Math.min(MAX_WIDTH_MS, width * 4, Math.floor((width * limit * FILL) / count)));
}

/**
 * Oldest first: windows `[a, a + w - 1]` read whole, resized from the density seen. Without
 * `fromMs` the oldest event is found first by galloping back from the newest (about log4 of the
 * log's age in reads, once per traversal).
 */
export async function pageAsc(
  fetch: FetchWindow,
  sourceId: string,
  query: SourceQuery,
  resume: AscResume | null,
  limit: number,
): Promise<PagedBatch<AscResume>> {
  const top = query.toMs === null ? null : query.toMs - 1;
  let state: AscResume;
  if (resume) state = resume;
  else if (query.fromMs !== null) state = { a: query.fromMs, w: 0, u: null };
  else {
    const found = await findOldest(fetch, sourceId, top, limit);
    if ('events' in found) return found;
    state = found.state;
  }

  for (let round = 1; ; round++) {
    if (top !== null && state.a > top) return { events: [], next: null };
    if (state.w === 1) {
      const events = await readMillisecond(fetch, sourceId, state.a, limit);
      const next = top !== null && state.a >= top ? null : { a: state.a + 1, w: resize(1, events.length, limit), u: state.u };
      return { events, next };
    }
    const cap = top ?? state.u;
    let hi = state.w === 0 ? cap : state.a + state.w - 1;
    if (hi !== null && cap !== null && hi > cap) hi = cap;
    // Without an upper bound, the window reaching the newest event seen must also see newer ones.
    const open = top === null && (hi === null || (state.u !== null && hi >= state.u));
    const read = await readRange(fetch, state.a, open ? null : hi, Math.min(MAX_UPSTREAM_LIMIT, limit * 2));

    if (read.complete) {
      if (open || hi === null || (top !== null && hi >= top)) return { events: read.events, next: null };
      const next = { a: hi + 1, w: resize(hi - state.a + 1, read.events.length, limit), u: state.u };
      if (read.events.length > 0 || round >= MAX_ASC_ROUNDS) return { events: read.events, next };
      state = next;
      continue;
    }
    if (read.events.length === 0) {
      // Filled by events just above the window (an inclusive `to`): the window's own events are hidden.
      // Reading up to the next millisecond boundary one millisecond at a time is the only narrowing left.
      state = { ...state, w: 1 };
      continue;
    }
    const { oldest, newest } = timeBounds(read.events);
    const u = open ? Math.max(state.u ?? newest, newest) : state.u;
    if (oldest === state.a) state = { a: state.a, w: 1, u };
    else {
      const estimate = Math.floor((limit * FILL * (newest - oldest + 1)) / read.events.length);
      state = { a: state.a, w: Math.max(1, Math.min(oldest - state.a, estimate)), u };
    }
    if (round >= MAX_ASC_ROUNDS) return { events: [], next: state };
  }
}

/** Gallops back from the newest events until a read holds everything before its bound. */
async function findOldest(fetch: FetchWindow, sourceId: string, top: number | null, limit: number): Promise<PagedBatch<AscResume> | { state: AscResume }> {
  const ask = Math.min(MAX_UPSTREAM_LIMIT, limit);
  const first = await readNewest(fetch, sourceId, top, ask);
  if (first.complete) return { events: first.events, next: null };
  const bounds = timeBounds(first.events);
  const u = top === null && first.events.length > 0 ? bounds.newest : null;
  let oldest = first.events.length > 0 ? bounds.oldest : (top ?? 0);
  let gap = first.events.length > 0 ? Math.max(1, bounds.newest - bounds.oldest + 1) : 1;
  for (;;) {
    const t = oldest - gap;
    const read = await readRange(fetch, null, t, ask);
    if (read.complete) {
      const next: AscResume = { a: t + 1, w: Math.min(MAX_WIDTH_MS, gap), u };
      return read.events.length > 0 ? { events: read.events, next } : { state: next };
    }
    oldest = read.events.length > 0 ? timeBounds(read.events).oldest : t;
    gap *= 4;
  }
}

/**
 * The newest events up to `top`, asking for more while a full read held no event at all (only
 * records that cannot be placed): the newest event seen is where an oldest-first traversal
 * without an upper bound must switch to open-ended reads, so it has to be known.
 */
async function readNewest(fetch: FetchWindow, sourceId: string, top: number | null, limit: number): Promise<RangeRead> {
  for (let ask = limit; ; ask = Math.min(MAX_UPSTREAM_LIMIT, ask * 2)) {
    const read = await readRange(fetch, null, top, ask);
    if (read.complete || read.events.length > 0) return read;
    if (ask >= MAX_UPSTREAM_LIMIT) {
      throw new UpstreamError(ErrorCode.UpstreamResponseTooLarge, sourceId, { logDetail: { reason: `the newest ${MAX_UPSTREAM_LIMIT} audit logs cannot be placed` } });
    }
  }
}

/** Sorts a batch in `direction` (ties by id), for readable batches; the merge does not need it. */
export function sortBatch(events: AuditEventModel[], direction: Direction): AuditEventModel[] {
  const sign = direction === 'DESC' ? -1 : 1;
  return events.sort((x, y) =>
    x.occurredAtMs !== y.occurredAtMs ? sign * (x.occurredAtMs - y.occurredAtMs) : sign * (x.sourceEventId < y.sourceEventId ? -1 : x.sourceEventId > y.sourceEventId ? 1 : 0),
  );
}

const position = z.number().int();

/** The JSON of a {@link DescResume} as this module writes it: both keys, whole numbers, `n` not negative. */
export const descResumeSchema: z.ZodType<DescResume> = z.strictObject({ b: position, n: position.min(0) });

/** The JSON of an {@link AscResume}: all three keys, `u` null until the newest event is known. */
export const ascResumeSchema: z.ZodType<AscResume> = z.strictObject({ a: position, w: position.min(0), u: position.nullable() });

/** Either direction's state, as read from a cursor before its direction is checked. */
export type PortResume = DescResume | AscResume;

/** The resume states of the datasource: the two shapes share no key, so a state tells its direction. */
export const portResumeSchema: z.ZodType<PortResume> = z.union([descResumeSchema, ascResumeSchema]);

/** Whether `state` is a newest-first state. */
export function isDescResume(state: PortResume): state is DescResume {
  return 'b' in state;
}
