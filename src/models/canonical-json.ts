/**
 * Canonical JSON, as RFC 8785 (JSON Canonicalization Scheme) defines it: no whitespace, object
 * members sorted by their names' UTF-16 code units, strings and numbers written as ECMAScript's
 * `JSON.stringify` writes them. Two parties holding the same JSON value always produce the same
 * bytes, which is what a hash over values, rather than over one writer's text, needs: the evidence
 * export's chain, ComplianceAgent's entry hashes and Agilicus's derived record ids all hash this
 * form.
 *
 * Members whose value is `undefined` are left out, as `JSON.stringify` leaves them out; a value
 * parsed from JSON never has one. Non-finite numbers have no JSON form and are refused, because a
 * hash over a lossy encoding would match values that differ.
 *
 * This runs once per record on every path that hashes one, so it avoids what costs in V8: a
 * string without anything to escape is quoted without calling `JSON.stringify`, member names (a
 * small vocabulary) are quoted once, and names already in order are not sorted.
 *
 * `omitTopLevelMember` leaves one member of the outermost object out (a record's own hash)
 * without copying the record.
 */
export function canonicalJson(value: unknown, omitTopLevelMember?: string): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no form for a non-finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return canonicalArray(value);
      return canonicalObject(value as Record<string, unknown>, omitTopLevelMember);
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}

/** Characters `JSON.stringify` writes other than as themselves: quote, backslash, controls, surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 10_000;

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = quote(name);
    if (quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(name, quoted);
  }
  return quoted;
}

function canonicalArray(items: readonly unknown[]): string {
  if (items.length === 0) return '[]';
  // As JSON.stringify does: an array keeps its length, a hole or undefined is null.
  let text = `[${items[0] === undefined ? 'null' : canonicalJson(items[0])}`;
  for (let i = 1; i < items.length; i += 1) text += `,${items[i] === undefined ? 'null' : canonicalJson(items[i])}`;
  return `${text}]`;
}

function canonicalObject(object: Readonly<Record<string, unknown>>, omit?: string): string {
  let text = '{';
  for (const name of sortedNames(object)) {
    const member = object[name];
    if (member === undefined || name === omit) continue;
    if (text.length > 1) text += ',';
    text += `${quoteName(name)}:${canonicalJson(member)}`;
  }
  return `${text}}`;
}

/** An object's own enumerable names in code-unit order (the default sort's order). */
function sortedNames(object: Readonly<Record<string, unknown>>): string[] {
  const names = Object.keys(object);
  for (let i = 1; i < names.length; i += 1) {
    if (names[i - 1]! > names[i]!) return names.sort();
  }
  return names;
}

/**
 * The canonical members of an object (`"name":value,…`, without braces) split around a name it
 * does not have: those that sort before `pivot` and those after. A writer adds a member at the
 * pivot's place in the text without serialising the object again.
 */
export function canonicalHalves(object: Readonly<Record<string, unknown>>, pivot: string): { before: string; after: string } {
  let before = '';
  let after = '';
  for (const name of sortedNames(object)) {
    const member = object[name];
    if (member === undefined) continue;
    const text = `${quoteName(name)}:${canonicalJson(member)}`;
    if (name < pivot) before = before === '' ? text : `${before},${text}`;
    else after = after === '' ? text : `${after},${text}`;
  }
  return { before, after };
}
