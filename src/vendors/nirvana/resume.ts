import { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../errors';
import type { Direction, SourceResume } from '../../sources/data-source';

/** The `sort` values the datasource sends to `GET /v1/audit_logs`. */
export type NirvanaSort = 'created_at:asc' | 'created_at:desc';

export const ASCENDING = 'created_at:asc' satisfies NirvanaSort;
export const DESCENDING = 'created_at:desc' satisfies NirvanaSort;

/**
 * Where a state stands in the upstream's listing:
 * - `c`: the `next_cursor` of a newest-first listing;
 * - `a`: the `next_cursor` of a `sort=created_at:asc` listing (always that sort);
 * - `w`: the `next_cursor` followed while walking a newest-first listing to its oldest page;
 * - `p`: the `previous_cursor` followed back from there towards newer pages.
 */
export type ResumeKey = 'c' | 'a' | 'w' | 'p';

/**
 * A resume state as JSON in gateway cursors: one {@link ResumeKey} with its upstream cursor, plus
 * what the request that issued the cursor carried, because the upstream takes a cursor only with
 * the filters and sort it was issued for:
 * - `f: 1` when it carried the filter parameters (states without `f` continue without them);
 * - `s` the sort it carried, `a` or `d`, when that is not implied by the key (`a` implies
 *   ascending). States without `s` continue with no `sort`, as every state did before the
 *   datasource sent `sort=created_at:desc`.
 * A state is always continued as it was issued, whatever the datasource has learned since.
 */
export type NirvanaResume = { key: ResumeKey; cursor: string; filtered: boolean; sort: NirvanaSort | null };

const SORT_TAGS: Record<'a' | 'd', NirvanaSort> = { a: ASCENDING, d: DESCENDING };

/** The keys each direction issues, and the `s` each key may carry: a state of the other direction is not one of this traversal. */
const ALLOWED: Record<Direction, Partial<Record<ResumeKey, ReadonlyArray<'a' | 'd' | undefined>>>> = {
  DESC: { c: [undefined, 'd'] },
  ASC: { a: [undefined], w: [undefined, 'a', 'd'], p: [undefined, 'a', 'd'] },
};

/** The JSON form of a state that continues at `cursor`; null when there is no cursor (the listing ends). */
export function resumeAt(key: ResumeKey, cursor: string | null, listing: { filtered: boolean; sort: NirvanaSort | null }): SourceResume | null {
  if (cursor === null) return null;
  const state: Record<string, string | number> = { [key]: cursor };
  if (listing.filtered) state['f'] = 1;
  const tag = key === 'a' ? undefined : tagOf(listing.sort);
  if (tag !== undefined) state['s'] = tag;
  return state;
}

/** The optional tags every state may carry beside its key. */
const tags = { f: z.literal(1).optional(), s: z.enum(['a', 'd']).optional() };
const cursorText = z.string().min(1);

/** The resume states this datasource writes into cursors (one key, its upstream cursor, tags), checked by the base class. */
export const nirvanaResumeSchema = z.union([
  z.strictObject({ c: cursorText, ...tags }),
  z.strictObject({ a: cursorText, ...tags }),
  z.strictObject({ w: cursorText, ...tags }),
  z.strictObject({ p: cursorText, ...tags }),
]);

/** A state as it appears in a cursor, before it is checked against its direction. */
export type NirvanaResumeState = z.infer<typeof nirvanaResumeSchema>;

/**
 * A state of the right shape read for `direction`: a key the direction issues, with a sort tag
 * that key may carry. Anything else (a state of the other direction) is an expired cursor.
 */
export function toNirvanaResume(state: NirvanaResumeState, direction: Direction, sourceId: string): NirvanaResume {
  const [key, cursor] = 'c' in state ? (['c', state.c] as const) : 'a' in state ? (['a', state.a] as const) : 'w' in state ? (['w', state.w] as const) : (['p', state.p] as const);
  const tag = state.s;
  const allowedTags = ALLOWED[direction][key];
  if (!allowedTags || !allowedTags.includes(tag)) {
    throw new UpstreamError(ErrorCode.UpstreamCursorExpired, sourceId, { logDetail: { reason: 'resume state of another direction' } });
  }
  const sort = key === 'a' ? ASCENDING : tag === undefined ? null : SORT_TAGS[tag];
  return { key, cursor, filtered: state.f === 1, sort };
}

function tagOf(sort: NirvanaSort | null): 'a' | 'd' | undefined {
  if (sort === ASCENDING) return 'a';
  if (sort === DESCENDING) return 'd';
  return undefined;
}
