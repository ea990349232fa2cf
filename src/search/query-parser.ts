import { ErrorCode, GatewayError } from '../errors';
import type { SearchPart } from '../sources/compliance';

/** A field prefix a term may carry (`actor:`), and the part of an event it aims at. */
const FIELD_PARTS: Readonly<Record<string, Exclude<SearchPart, 'any'>>> = {
  action: 'action',
  actor: 'actor',
  target: 'target',
  details: 'details',
  request: 'request',
  ip: 'ip',
  session: 'session',
  agent: 'agent',
  path: 'path',
  repository: 'repository',
  repo: 'repository',
};

/** The prefixes, as the error for an unknown one lists them. */
export const SEARCH_FIELDS: readonly string[] = Object.keys(FIELD_PARTS);

export const MAX_QUERY_LENGTH = 256;
export const MAX_TERMS = 16;

/** One term: lower-cased text that must occur in a value of `part`. */
export interface SearchTerm {
  text: string;
  part: SearchPart;
  /** 1-based position of the term in the query, for messages. */
  position: number;
}

export interface SearchQuery {
  /** Every one must match (AND), in the order given. */
  terms: SearchTerm[];
  /** A stable text of the terms, for cache keys and cursor fingerprints. */
  canonical: string;
}

/**
 * Parses a search query: whitespace-separated terms, each a word or a "quoted phrase" (inside
 * which `\"` is a quote and `\\` a backslash), optionally prefixed by a field (`actor:alice`,
 * `details:"disk full"`). Prefixes are letters followed by `:` at the start of a term; case is
 * ignored everywhere. Anything else is refused with BAD_USER_INPUT (reason INVALID_QUERY) naming
 * the 1-based position of the problem.
 */
export function parseSearchQuery(input: string): SearchQuery {
  if (input.length > MAX_QUERY_LENGTH) throw invalid(`at most ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH + 1);
  const control = /[\u0000-\u001f\u007f]/.exec(input);
  if (control) throw invalid('a control character', control.index + 1);
  const terms: SearchTerm[] = [];
  let at = 0;
  const skipSpace = () => {
    while (at < input.length && /\s/.test(input[at]!)) at += 1;
  };
  skipSpace();
  if (at === input.length) throw invalid('an empty query: give at least one term', 1);
  while (at < input.length) {
    const start = at;
    if (terms.length === MAX_TERMS) throw invalid(`more than ${MAX_TERMS} terms`, start + 1);
    let part: SearchPart = 'any';
    const prefix = /^([A-Za-z]+):/.exec(input.slice(at));
    if (prefix) {
      const field = prefix[1]!.toLowerCase();
      const known = FIELD_PARTS[field];
      if (!known) throw invalid(`unknown field '${prefix[1]}:' (fields: ${SEARCH_FIELDS.join(', ')}); quote the term to search for it as text`, start + 1);
      part = known;
      at += prefix[0].length;
      if (at === input.length || /\s/.test(input[at]!)) throw invalid(`'${prefix[0]}' needs a value right after the colon`, at + 1);
    }
    const text = input[at] === '"' ? readPhrase() : readWord();
    terms.push({ text: text.toLowerCase(), part, position: start + 1 });
    skipSpace();
  }
  return { terms, canonical: JSON.stringify(terms.map((term) => [term.part, term.text])) };

  function readPhrase(): string {
    const open = at;
    at += 1;
    let text = '';
    while (at < input.length && input[at] !== '"') {
      if (input[at] === '\\' && (input[at + 1] === '"' || input[at + 1] === '\\')) at += 1;
      text += input[at];
      at += 1;
    }
    if (at === input.length) throw invalid('a quote that is never closed', open + 1);
    at += 1;
    if (text.trim() === '') throw invalid('an empty phrase', open + 1);
    if (at < input.length && !/\s/.test(input[at]!)) throw invalid('text right after a closing quote: separate terms with a space', at + 1);
    return text;
  }

  function readWord(): string {
    const begin = at;
    while (at < input.length && !/\s/.test(input[at]!)) {
      if (input[at] === '"') throw invalid('a quote inside a word: quote the whole term', at + 1);
      at += 1;
    }
    return input.slice(begin, at);
  }
}

function invalid(problem: string, position: number): GatewayError {
  return new GatewayError(ErrorCode.BadUserInput, `query: ${problem} at position ${position}`, { reason: 'INVALID_QUERY', field: 'query', position });
}
