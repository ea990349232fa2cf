import { z } from 'zod';
import type { ActorType } from '../../models/audit-event';
import type { JsonObject } from '../../models/json';
import { onlyValue, type SourceQuery } from '../../sources/data-source';
import { UNKNOWN_EVENT_TYPE } from './normalize';
import type { RawAsanaActorType } from './wire-types';

/**
 * Paging math for Asana, as pure functions over plain data.
 *
 * The API lists oldest first only. Newest first is built from time windows `[e - w, e)` stepped
 * backwards from the top: each window is read oldest first with `start_at`/`end_at` and offsets,
 * and handed out whole as one batch, which keeps batches monotone in time (every later window is
 * strictly older). The width adapts so that a window holds about {@link windowTarget} events.
 */

/** Page-size bounds: the parameter schema says 1–100; the endpoint text's default of 1000 is never relied on. */
export const MIN_LIMIT = 1;
export const MAX_LIMIT = 100;

/**
 * Most events one newest-first batch buffers. A window that would hold more is abandoned and
 * narrowed; only a 1 ms window (one timestamp, so any split of it is still monotone) is handed
 * out in parts of this size.
 */
export const WINDOW_CAP = 500;

/** Longest step a window may grow or shrink by at once, so that one odd window cannot swing the width wildly. */
const MAX_GROWTH = 8;

/** Oldest-first position: the upstream's `next_page.offset`. */
export interface AscResume {
  o: string;
}

/**
 * Newest-first position: the window ends at `e` (exclusive, ms) and is `w` ms wide; `f` is the
 * floor (the oldest matching event when the traversal started); `o` is an offset inside a 1 ms
 * window that was too full to hand out at once.
 */
export interface DescResume {
  e: number;
  w: number;
  f: number;
  o?: string;
  /**
   * Start of the last window found too full, while only empty windows have been read since:
   * they bisect the region down to it instead of growing back into it (a window whose top is
   * empty and bottom dense would otherwise be abandoned and regrown over and over).
   */
  x?: number;
  /**
   * Set when the window's width is a guess, grown or bisected after an empty window: its bottom
   * may hold a burst after a quiet spell, whose density projected over the quiet part abandoned
   * every window that reached it (300 events below a quiet month cost 28 requests), so a far-off
   * projection does not abandon it ({@link overflows}).
   */
  g?: 1;
}

/** Clamps the gateway's wish to what the API accepts. */
export function clampLimit(limit: number): number {
  return Math.max(MIN_LIMIT, Math.min(MAX_LIMIT, Math.floor(Number.isFinite(limit) ? limit : MAX_LIMIT)));
}

/**
 * Events a newest-first window aims at. Each window costs one extra request (the empty page that
 * proves it is complete), so windows hold several pages' worth when the gateway wants many, and
 * never fewer than most of one full page.
 */
export function windowTarget(limit: number): number {
  return Math.min(300, Math.max(80, 3 * clampLimit(limit)));
}

/** The window's start: never below the floor, and at least 1 ms wide. */
export function windowStart(state: DescResume): number {
  return Math.max(state.f, state.e - Math.max(1, state.w));
}

/** The width of the next (older) window after one of `width` ms held `count` events. */
export function nextWidth(width: number, count: number, target: number): number {
  const factor = count === 0 ? MAX_GROWTH : Math.min(MAX_GROWTH, Math.max(1 / MAX_GROWTH, target / count));
  return Math.max(1, Math.round(width * factor));
}

/**
 * Whether a window being read should be abandoned: `count` events read oldest first cover its
 * first `coveredMs`; at that density the whole `width` would exceed {@link WINDOW_CAP}. A window
 * whose width is a guess (`guessed`, see {@link DescResume.g}) is abandoned early only while that
 * projection stays within what an overgrown window holds (64 caps): far beyond, its bottom is a
 * burst after a quiet spell rather than a density that holds across it, and it is read on to the cap.
 */
export function overflows(count: number, coveredMs: number, width: number, guessed = false): boolean {
  if (width <= 1) return false;
  if (count >= WINDOW_CAP) return true;
  const projected = (count * width) / Math.max(1, coveredMs);
  return projected >= WINDOW_CAP && (!guessed || projected < WINDOW_CAP * MAX_GROWTH * MAX_GROWTH);
}

/**
 * The state after the window `[start, state.e)` was handed out with `seen` events: the next,
 * older window, or null at the floor.
 */
export function afterWindow(state: DescResume, start: number, seen: number, target: number): DescResume | null {
  if (start <= state.f) return null;
  const w = nextWidth(state.e - start, seen, target);
  // Only an empty window grows blindly; one with events has measured the density, and trusts it.
  if (seen > 0) return { e: start, w, f: state.f };
  if (state.x !== undefined && state.x < start - 1) return { e: start, w: Math.min(w, Math.ceil((start - state.x) / 2)), f: state.f, x: state.x, g: 1 };
  return { e: start, w, f: state.f, g: 1 };
}

/**
 * The state after the window `[start, state.e)` was abandoned: `count` events read oldest first
 * covered its first `coveredMs`. The next try is narrower by the density seen, but by at most a
 * factor of 64 at once (the density at a window's bottom says little about its top), and never
 * as wide as the window that failed.
 */
export function afterOverflow(state: DescResume, start: number, count: number, coveredMs: number, target: number): DescResume {
  const width = state.e - start;
  const byDensity = Math.floor((Math.max(1, coveredMs) * target) / Math.max(1, count));
  const w = Math.max(1, Math.min(width - 1, Math.max(byDensity, Math.floor(width / (MAX_GROWTH * MAX_GROWTH)))));
  return { e: state.e, w, f: state.f, x: start };
}

/** The first window's width, from the oldest events seen by the floor probe. */
export function initialWidth(times: readonly number[], topMs: number, floorMs: number, full: boolean, target: number): number {
  const span = topMs - floorMs;
  if (!full || times.length < 2) return Math.max(1, span);
  const covered = Math.max(...times) - Math.min(...times) + 1;
  return Math.max(1, Math.min(span, Math.floor((covered * target) / times.length)));
}

/** A newest-first state as the JSON a gateway cursor carries. */
export function descResumeJson(state: DescResume): JsonObject {
  const json: JsonObject = { e: state.e, w: state.w, f: state.f };
  if (state.o !== undefined) json['o'] = state.o;
  if (state.x !== undefined) json['x'] = state.x;
  if (state.g !== undefined) json['g'] = state.g;
  return json;
}

const time = z.number().int();
const offset = z.string().min(1);

/** The JSON of an {@link AscResume}: the upstream's offset alone. */
export const ascResumeSchema: z.ZodType<AscResume> = z.strictObject({ o: offset });

/**
 * The JSON of a {@link DescResume}, as {@link descResumeJson} writes it: a window at least 1 ms
 * wide above its floor, and a bisection mark, when there is one, inside the walk.
 */
export const descResumeSchema: z.ZodType<DescResume> = z
  .strictObject({ e: time, w: time.min(1), f: time, o: offset.optional(), x: time.optional(), g: z.literal(1).optional() })
  .refine((state) => state.f < state.e && (state.x === undefined || (state.x >= state.f && state.x < state.e)));

/** Either direction's state, as read from a cursor before its direction is checked. */
export type AsanaResume = AscResume | DescResume;

/** The resume states of the datasource: only a newest-first state has `e`, so a state tells its direction. */
export const asanaResumeSchema: z.ZodType<AsanaResume> = z.union([ascResumeSchema, descResumeSchema]);

/** Whether `state` is a newest-first state. */
export function isDescResume(state: AsanaResume): state is DescResume {
  return 'e' in state;
}

/** ISO 8601 as the API takes it (millisecond precision, UTC). */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The `actor_type` that selects exactly the events of one normalised actor type. Asana documents
 * `actor_type` for the kinds of actor without an id, and each of these comes from one of them
 * alone. USER (from `user` and `external_administrator`), SERVICE_ACCOUNT (a `user` with a
 * service account token) and UNKNOWN have no such value: the gateway filters them.
 */
const ACTOR_TYPE_PARAM: Partial<Record<ActorType, RawAsanaActorType>> = {
  SYSTEM: 'asana',
  VENDOR_SUPPORT: 'asana_support',
  ANONYMOUS: 'anonymous',
};

/** The filter parameters of one request: each parameter takes one value, so only single-valued filters go upstream. */
export interface AsanaFilterParams {
  event_type?: string;
  actor_gid?: string;
  actor_type?: string;
  resource_gid?: string;
}

/**
 * What of `query` the API applies exactly as the gateway's filter would: `event_type` = action,
 * `actor_gid` = actor id, `actor_type` for the id-less kinds, `resource_gid` = target id.
 * Multi-valued filters stay with the gateway, which re-applies every filter anyway.
 */
export function pushDown(query: SourceQuery): AsanaFilterParams {
  const params: AsanaFilterParams = {};
  const action = onlyValue(query.actions);
  // Events without `event_type` are listed as this action; Asana cannot be asked for them.
  if (action !== null && action !== UNKNOWN_EVENT_TYPE) params.event_type = action;
  const actorId = onlyValue(query.actorIds);
  const actorType = onlyValue(query.actorTypes);
  const actorTypeParam = actorType === null ? undefined : ACTOR_TYPE_PARAM[actorType];
  if (actorId !== null) params.actor_gid = actorId;
  // The API wants `actor_type` left out when `actor_gid` is given.
  else if (actorTypeParam !== undefined) params.actor_type = actorTypeParam;
  const targetId = onlyValue(query.targetIds);
  if (targetId !== null) params.resource_gid = targetId;
  return params;
}
