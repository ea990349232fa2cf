'use strict';

/**
 * Bench-only preload of the soak scenario (bench/loadtest.ts, LOADTEST_SCENARIOS=soak), loaded into
 * the gateway with `--expose-gc --require bench/soak-preload.cjs`, so that the product itself needs
 * no debug endpoint to tell its heap after a collection. It answers only over the IPC channel the
 * load test opens to the gateway for the soak: `{type: 'soak-gc', id}` runs a full GC and answers
 * `{type: 'soak-memory', id, heapUsed, heapTotal, rss, external, arrayBuffers, gcMs}` (the
 * `SoakMemoryReply` of bench/soak-probes.ts). Without a channel or without `--expose-gc` it does
 * nothing.
 */
const gc = globalThis.gc;
if (typeof process.send === 'function' && typeof gc === 'function') {
  process.on('message', (message) => {
    if (!message || typeof message !== 'object' || message.type !== 'soak-gc') return;
    const started = performance.now();
    gc();
    const gcMs = performance.now() - started;
    const { heapUsed, heapTotal, rss, external, arrayBuffers } = process.memoryUsage();
    // A callback, so that a load test gone meanwhile (channel closed) is no 'error' event that would end the gateway.
    process.send({ type: 'soak-memory', id: message.id, heapUsed, heapTotal, rss, external, arrayBuffers, gcMs }, () => {});
  });
  // Node refs the channel (on the next tick) once a 'message' listener exists; an open channel must
  // not keep the gateway alive after its own shutdown, so it is unref'd after that.
  setImmediate(() => process.channel && process.channel.unref());
}
