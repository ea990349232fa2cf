import { PAGE_SIZE, parsePaging, type Paging, type PagingArgs } from '../../src/connection/paging-args';

/** What parsePaging threw, as the client sees it: message and extensions. */
function refusal(args: PagingArgs): unknown {
  try {
    parsePaging(args);
  } catch (error) {
    const { message, extensions } = error as { message: string; extensions: unknown };
    return { message, extensions };
  }
  return 'accepted';
}

const CONFLICT_FIRST_LAST = {
  message: 'first and last cannot be used together: page forwards with first/after or backwards with last/before',
  extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_CONFLICT', field: 'first' },
};
const CONFLICT_AFTER_BEFORE = {
  message: 'after and before cannot be used together: page forwards with first/after or backwards with last/before',
  extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_CONFLICT', field: 'after' },
};
const FIRST_OUT_OF_RANGE = {
  message: 'first must be between 1 and 100',
  extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE', field: 'first' },
};
const LAST_OUT_OF_RANGE = {
  message: 'last must be between 1 and 100',
  extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_OUT_OF_RANGE', field: 'last' },
};

describe('parsePaging', () => {
  it('pages forward 20 events from the start when no argument is given', () => {
    expect(parsePaging({})).toEqual<Paging>({ mode: 'forward', count: 20, cursor: null, cursorArgument: 'after' });
    expect(PAGE_SIZE).toEqual({ min: 1, max: 100, default: 20 });
  });

  it('pages forward with first, after, or both', () => {
    expect(parsePaging({ first: 5 })).toEqual<Paging>({ mode: 'forward', count: 5, cursor: null, cursorArgument: 'after' });
    expect(parsePaging({ after: 'c1' })).toEqual<Paging>({ mode: 'forward', count: 20, cursor: 'c1', cursorArgument: 'after' });
    expect(parsePaging({ first: 7, after: 'c1' })).toEqual<Paging>({ mode: 'forward', count: 7, cursor: 'c1', cursorArgument: 'after' });
  });

  it('pages backward with last, before, or both', () => {
    expect(parsePaging({ last: 5 })).toEqual<Paging>({ mode: 'backward', count: 5, cursor: null, cursorArgument: 'before' });
    expect(parsePaging({ before: 'c1' })).toEqual<Paging>({ mode: 'backward', count: 20, cursor: 'c1', cursorArgument: 'before' });
    expect(parsePaging({ last: 7, before: 'c1' })).toEqual<Paging>({ mode: 'backward', count: 7, cursor: 'c1', cursorArgument: 'before' });
  });

  it('reads null arguments as absent, as GraphQL passes an explicit null', () => {
    expect(parsePaging({ first: null, after: null, last: null, before: null })).toEqual<Paging>({ mode: 'forward', count: 20, cursor: null, cursorArgument: 'after' });
    expect(parsePaging({ first: null, after: null, last: 3, before: 'c1' })).toEqual<Paging>({ mode: 'backward', count: 3, cursor: 'c1', cursorArgument: 'before' });
    expect(parsePaging({ first: 3, after: 'c1', last: null, before: null })).toEqual<Paging>({ mode: 'forward', count: 3, cursor: 'c1', cursorArgument: 'after' });
  });

  it('keeps an empty cursor as given, for the codec to refuse', () => {
    expect(parsePaging({ after: '' })).toEqual<Paging>({ mode: 'forward', count: 20, cursor: '', cursorArgument: 'after' });
    expect(parsePaging({ before: '' })).toEqual<Paging>({ mode: 'backward', count: 20, cursor: '', cursorArgument: 'before' });
  });

  it('takes page sizes from 1 to 100 inclusive', () => {
    for (const count of [1, 2, 99, 100]) {
      expect(parsePaging({ first: count })).toEqual<Paging>({ mode: 'forward', count, cursor: null, cursorArgument: 'after' });
      expect(parsePaging({ last: count })).toEqual<Paging>({ mode: 'backward', count, cursor: null, cursorArgument: 'before' });
    }
  });

  it('refuses first and last together, naming first', () => {
    expect(refusal({ first: 5, last: 5 })).toEqual(CONFLICT_FIRST_LAST);
    expect(refusal({ first: 5, last: 5, after: 'c1', before: 'c2' })).toEqual(CONFLICT_FIRST_LAST);
  });

  it('refuses after and before together, naming after', () => {
    expect(refusal({ after: 'c1', before: 'c2' })).toEqual(CONFLICT_AFTER_BEFORE);
    expect(refusal({ first: 5, after: 'c1', before: 'c2' })).toEqual(CONFLICT_AFTER_BEFORE);
  });

  it('refuses first with before, naming before', () => {
    expect(refusal({ first: 5, before: 'c1' })).toEqual({
      message: 'first goes with after, and last with before',
      extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_CONFLICT', field: 'before' },
    });
  });

  it('refuses last with after, naming after', () => {
    expect(refusal({ last: 5, after: 'c1' })).toEqual({
      message: 'last goes with before, and first with after',
      extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_CONFLICT', field: 'after' },
    });
  });

  it('refuses a first out of range or not whole, naming first', () => {
    for (const first of [0, -1, 101, 1_000_000, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect({ first, refused: refusal({ first }) }).toEqual({ first, refused: FIRST_OUT_OF_RANGE });
    }
    expect(refusal({ first: 0, after: 'c1' })).toEqual(FIRST_OUT_OF_RANGE);
  });

  it('refuses a last out of range or not whole, naming last', () => {
    for (const last of [0, -1, 101, 2.5]) {
      expect({ last, refused: refusal({ last }) }).toEqual({ last, refused: LAST_OUT_OF_RANGE });
    }
    expect(refusal({ last: 101, before: 'c1' })).toEqual(LAST_OUT_OF_RANGE);
  });

  it('checks the pairing before the size: a conflict is reported even with a size out of range', () => {
    expect(refusal({ first: 0, last: 500 })).toEqual(CONFLICT_FIRST_LAST);
    expect(refusal({ first: 0, before: 'c1' })).toEqual({
      message: 'first goes with after, and last with before',
      extensions: { code: 'BAD_USER_INPUT', reason: 'ARGUMENT_CONFLICT', field: 'before' },
    });
  });
});
