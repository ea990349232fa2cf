import { GatewayError } from '../../src/errors';
import { MAX_QUERY_LENGTH, MAX_TERMS, parseSearchQuery } from '../../src/search/query-parser';

const terms = (query: string) => parseSearchQuery(query).terms.map(({ text, part }) => [part, text]);

/** The error a query is refused with: its message and extensions. */
function refusal(query: string): { message: string; extensions: Record<string, unknown> } {
  try {
    parseSearchQuery(query);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return { message: (error as GatewayError).message, extensions: (error as GatewayError).extensions };
  }
  throw new Error(`'${query}' was accepted`);
}

describe('parseSearchQuery', () => {
  it('reads words, lower-cased, every one a term', () => {
    expect(terms('Disk FULL')).toEqual([
      ['any', 'disk'],
      ['any', 'full'],
    ]);
    expect(terms('   one  ')).toEqual([['any', 'one']]);
  });

  it('reads quoted phrases with their spaces, and \\" and \\\\ inside them', () => {
    expect(terms('"disk is Full" x')).toEqual([
      ['any', 'disk is full'],
      ['any', 'x'],
    ]);
    expect(terms('"say \\"hi\\" to c:\\\\temp \\n"')).toEqual([['any', 'say "hi" to c:\\temp \\n']]);
  });

  it('reads field prefixes in any case, before words and phrases', () => {
    expect(terms('actor:alice IP:10.0.0.1 action:user.login target:"Prod DB" details:x request:curl session:s agent:a path:/v1 repository:r repo:q')).toEqual([
      ['actor', 'alice'],
      ['ip', '10.0.0.1'],
      ['action', 'user.login'],
      ['target', 'prod db'],
      ['details', 'x'],
      ['request', 'curl'],
      ['session', 's'],
      ['agent', 'a'],
      ['path', '/v1'],
      ['repository', 'r'],
      ['repository', 'q'],
    ]);
  });

  it('takes a colon that is not after a leading field name as text', () => {
    expect(terms('10:30 a:b:c'.replace('a:b:c', '"a:b:c"'))).toEqual([
      ['any', '10:30'],
      ['any', 'a:b:c'],
    ]);
    expect(terms('actor:a:b')).toEqual([['actor', 'a:b']]);
  });

  it('keeps the position of each term, 1-based', () => {
    expect(parseSearchQuery(' a  actor:"b c" d').terms.map((term) => term.position)).toEqual([2, 5, 17]);
  });

  it('gives the same canonical text to the same terms however they are written', () => {
    expect(parseSearchQuery('Actor:X  "y"').canonical).toBe(parseSearchQuery('actor:x y').canonical);
    expect(parseSearchQuery('x y').canonical).not.toBe(parseSearchQuery('"x y"').canonical);
  });

  it.each([
    ['', 1, 'empty query'],
    ['   ', 1, 'empty query'],
    ['"unclosed', 1, 'never closed'],
    ['a "b c', 3, 'never closed'],
    ['""', 1, 'empty phrase'],
    ['" "', 1, 'empty phrase'],
    ['"a"b', 4, 'after a closing quote'],
    ['ab"c"', 3, 'quote inside a word'],
    ['colour:red', 1, "unknown field 'colour:'"],
    ['x actor:', 9, 'needs a value'],
    ['actor: x', 7, 'needs a value'],
    ['a\u0007b', 2, 'control character'],
  ])('refuses %j at position %i', (query, position, problem) => {
    const { message, extensions } = refusal(query);
    expect(extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_QUERY', field: 'query', position });
    expect(message).toContain(problem);
    expect(message).toContain(`position ${position}`);
  });

  it('refuses queries that are too long or have too many terms', () => {
    expect(refusal('x'.repeat(MAX_QUERY_LENGTH + 1)).extensions).toMatchObject({ position: MAX_QUERY_LENGTH + 1 });
    expect(() => parseSearchQuery('x'.repeat(MAX_QUERY_LENGTH))).not.toThrow();
    const many = Array.from({ length: MAX_TERMS + 1 }, (_, i) => `t${i}`).join(' ');
    expect(refusal(many).extensions).toMatchObject({ position: many.lastIndexOf('t16') + 1 });
    expect(parseSearchQuery(Array.from({ length: MAX_TERMS }, (_, i) => `t${i}`).join(' ')).terms).toHaveLength(MAX_TERMS);
  });
});
