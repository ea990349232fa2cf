import { badUserInput } from '../errors';

/** Relay paging arguments as GraphQL passes them. */
export interface PagingArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Validated paging: forward (`first`/`after`) or backward (`last`/`before`). */
export interface Paging {
  mode: 'forward' | 'backward';
  count: number;
  cursor: string | null;
  cursorArgument: 'after' | 'before';
}

/** Smallest and largest page, and the page size when neither `first` nor `last` is given. */
export const PAGE_SIZE = { min: 1, max: 100, default: 20 } as const;

/**
 * Checks paging arguments the way the Relay Cursor Connections spec pairs them, refusing rather
 * than guessing: both `first` and `last`, a size out of range, or a cursor of the other pair.
 */
export function parsePaging(args: PagingArgs): Paging {
  const { first, after, last, before } = args;
  const has = (value: unknown) => value !== null && value !== undefined;
  if (has(first) && has(last)) {
    throw badUserInput('first and last cannot be used together: page forwards with first/after or backwards with last/before', 'ARGUMENT_CONFLICT', 'first');
  }
  if (has(after) && has(before)) {
    throw badUserInput('after and before cannot be used together: page forwards with first/after or backwards with last/before', 'ARGUMENT_CONFLICT', 'after');
  }
  if (has(first) && has(before)) throw badUserInput('first goes with after, and last with before', 'ARGUMENT_CONFLICT', 'before');
  if (has(last) && has(after)) throw badUserInput('last goes with before, and first with after', 'ARGUMENT_CONFLICT', 'after');

  const backward = has(last) || has(before);
  const name = backward ? 'last' : 'first';
  const count = (backward ? last : first) ?? PAGE_SIZE.default;
  if (!Number.isInteger(count) || count < PAGE_SIZE.min || count > PAGE_SIZE.max) {
    throw badUserInput(`${name} must be between ${PAGE_SIZE.min} and ${PAGE_SIZE.max}`, 'ARGUMENT_OUT_OF_RANGE', name);
  }
  return backward
    ? { mode: 'backward', count, cursor: before ?? null, cursorArgument: 'before' }
    : { mode: 'forward', count, cursor: after ?? null, cursorArgument: 'after' };
}
