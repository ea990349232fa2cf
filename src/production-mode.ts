/**
 * Imported first by the process entries, before graphql is loaded: graphql-js picks its
 * `instanceOf` at load time, and outside production it checks every type test against a
 * second copy of graphql, a cost paid on every field of every response. Explicit NODE_ENV
 * values (test, development) are kept.
 */
process.env['NODE_ENV'] ??= 'production';
