import { ErrorCode, UpstreamError } from '../../errors';
import { isJsonObject } from '../../models/json';
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

/** Reads a state this datasource issued for `direction`; anything else is an expired cursor. */
export function parseResume(value: unknown, direction: Direction, sourceId: string): NirvanaResume | null {
  if (value === null) return null;
  const state = readState(value, direction);
  if (state) return state;
  throw new UpstreamError(ErrorCode.UpstreamCursorExpired, sourceId, { logDetail: { reason: 'unreadable resume state' } });
}

function readState(value: unknown, direction: Direction): NirvanaResume | null {
  if (!isJsonObject(value)) return null;
  const { f, s, ...position } = value;
  const entries = Object.entries(position);
  if (entries.length !== 1) return null;
  const [key, cursor] = entries[0]!;
  const allowedTags = ALLOWED[direction][key as ResumeKey];
  if (!allowedTags || typeof cursor !== 'string' || (f !== undefined && f !== 1)) return null;
  const tag = s === undefined ? undefined : isSortTag(s) ? s : null;
  if (tag === null || !allowedTags.includes(tag)) return null;
  const sort = key === 'a' ? ASCENDING : tag === undefined ? null : SORT_TAGS[tag];
  return { key: key as ResumeKey, cursor, filtered: f === 1, sort };
}

function isSortTag(value: unknown): value is 'a' | 'd' {
  return value === 'a' || value === 'd';
}

function tagOf(sort: NirvanaSort | null): 'a' | 'd' | undefined {
  if (sort === ASCENDING) return 'a';
  if (sort === DESCENDING) return 'd';
  return undefined;
}
