import fc from 'fast-check';
import { canonicalHalves, canonicalJson } from '../../src/models/canonical-json';

/** The plainest reading of RFC 8785 for JSON values: the reference the fast writer must equal. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .filter((name) => object[name] !== undefined)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${reference(object[name])}`)
    .join(',')}}`;
}

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units, at every depth, and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ z: true, y: null }], A: 'x', é: 2, '€': 3, '\u{1F600}': 4, '10': 5, '9': 6 })).toBe(
      '{"10":5,"9":6,"A":"x","a":[{"y":null,"z":true}],"b":1,"é":2,"€":3,"\u{1F600}":4}',
    );
  });

  it('writes numbers and strings as ECMAScript JSON.stringify does (the RFC 8785 examples)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 333333333.3333333, 1.7976931348623157e308, 4.5, 2e-3, 1e23])).toBe(
      '[1e+21,1e-7,0.1,0,333333333.3333333,1.7976931348623157e+308,4.5,0.002,1e+23]',
    );
    expect(canonicalJson('\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/\u2028\ud800')).toBe('"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/\u2028\\ud800"');
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });

  it('leaves out undefined members, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });

  it('equals the plain reading of the RFC for any JSON value, and is its own fixed point', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(text).toBe(reference(value));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('handles member names that are also Object.prototype names, in records parsed from text', () => {
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'toString', 'constructor', 'hasOwnProperty', 'a', '0', '10'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.string(), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      // Parsed from text, as records are: `__proto__` is then an own member.
      object: fc
        .array(fc.tuple(key, tie('value')), { maxLength: 5 })
        .map((entries) => JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`) as unknown),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves one member of the outermost object out when asked, and only there', () => {
    const record = { hash: 'sha256:1', b: { hash: 'kept' }, a: 1 };
    expect(canonicalJson(record, 'hash')).toBe('{"a":1,"b":{"hash":"kept"}}');
    expect(canonicalJson(record, 'hash')).toBe(canonicalJson({ a: 1, b: { hash: 'kept' } }));
    expect(canonicalJson([record], 'hash')).toBe('[{"a":1,"b":{"hash":"kept"},"hash":"sha256:1"}]');
  });

  it('splits an object around a name it lacks, so that the member can be added in its place', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string({ minLength: 1 }), (object, pivot) => {
        fc.pre(!(pivot in object));
        const { before, after } = canonicalHalves(object, pivot);
        const joined = [before, `${JSON.stringify(pivot)}:true`, after].filter(Boolean).join(',');
        expect(`{${joined}}`).toBe(canonicalJson({ ...object, [pivot]: true }));
      }),
      { numRuns: 200 },
    );
  });
});
