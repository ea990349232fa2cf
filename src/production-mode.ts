import v8 from 'node:v8';

/**
 * Imported first by the process entries, before graphql is loaded: graphql-js picks its
 * `instanceOf` at load time, and outside production it checks every type test against a
 * second copy of graphql, a cost paid on every field of every response. Explicit NODE_ENV
 * values (test, development) are kept.
 */
process.env['NODE_ENV'] ??= 'production';

/**
 * The gateway allocates fast (upstream JSON, events, responses) while keeping little: the live
 * heap is the bounded caches plus requests in flight, about 40 MB in `npm run bench`. At such
 * allocation rates V8 lets the heap grow to about four times the live size before a full
 * collection; a fixed factor of two keeps the process near its live size at a small cost in
 * collections, and unlike `--max-old-space-size` it never turns a burst into an out-of-memory exit.
 */
v8.setFlagsFromString('--heap-growing-percent=100');
