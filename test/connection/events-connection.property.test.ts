import fc from 'fast-check';
import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionArgs } from '../../src/connection/events-connection';
import { compareKeys, keyOf } from '../../src/connection/order';
import type { AuditEventModel } from '../../src/models/audit-event';
import type { SourceRegistry } from '../../src/sources/registry';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

const cursors = new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 });

/** Data sets: up to 3 sources, times drawn from a small range so that ties are common. */
const sourcesArbitrary = fc
  .array(
    fc.record({
      times: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }),
      batch: fc.integer({ min: 1, max: 9 }),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((specs) =>
    specs.map((spec, s) => {
      const sourceId = `s${s}`;
      const events = spec.times.map((t, i) => fakeEvent(sourceId, `e${(i * 7919) % 1000}-${i}`, 1_000_000 + t * 10));
      return { sourceId, events, batch: spec.batch };
    }),
  );

async function traverse(
  registry: SourceRegistry,
  base: EventConnectionArgs,
  pageSize: number,
  mode: 'forward' | 'backward',
): Promise<AuditEventModel[]> {
  const deps = { sources: registry, cursors, caches: createGatewayCaches(), scanBudgetRequests: 50, settleWindowMs: 0, cursorScope: '', signal: AbortSignal.timeout(10_000) };
  const listed: AuditEventModel[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 500; guard++) {
    const args: EventConnectionArgs = mode === 'forward' ? { ...base, first: pageSize, after: cursor } : { ...base, last: pageSize, before: cursor };
    const page = await loadEventConnection(args, deps);
    const nodes = page.edges.map((edge) => edge.node);
    if (mode === 'forward') listed.push(...nodes);
    else listed.unshift(...nodes);
    const more = mode === 'forward' ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage;
    if (!more) return listed;
    cursor = mode === 'forward' ? page.pageInfo.endCursor : page.pageInfo.startCursor;
  }
  throw new Error('traversal did not end');
}

describe('loadEventConnection (property-based)', () => {
  it('lists every event of every source exactly once, in the total order, whatever the page size and direction', async () => {
    await fc.assert(
      fc.asyncProperty(
        sourcesArbitrary,
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom('ASC' as const, 'DESC' as const),
        fc.constantFrom('forward' as const, 'backward' as const),
        async (specs, pageSize, order, mode) => {
          const registry = registryOf(specs.map((spec) => new FakeDataSource(spec.sourceId, spec.events, () => spec.batch)));
          const listed = await traverse(registry, { orderBy: { direction: order } }, pageSize, mode);
          const truth = specs.flatMap((spec) => spec.events).sort((a, b) => compareKeys(keyOf(a), keyOf(b), order));
          expect(listed.map(keyOf)).toEqual(truth.map(keyOf));
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  it('keeps a window filter exact across pages', async () => {
    await fc.assert(
      fc.asyncProperty(sourcesArbitrary, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 20 }), async (specs, pageSize, start, width) => {
        const from = new Date(1_000_000 + start * 10);
        const to = new Date(1_000_000 + (start + width) * 10);
        const registry = registryOf(specs.map((spec) => new FakeDataSource(spec.sourceId, spec.events, () => spec.batch)));
        const listed = await traverse(registry, { filter: { from, to } }, pageSize, 'forward');
        const truth = specs
          .flatMap((spec) => spec.events)
          .filter((event) => event.occurredAtMs >= from.getTime() && event.occurredAtMs < to.getTime())
          .sort((a, b) => compareKeys(keyOf(a), keyOf(b), 'DESC'));
        expect(listed.map(keyOf)).toEqual(truth.map(keyOf));
      }),
      { numRuns: 100 },
    );
  }, 120_000);

  it('resumes a source that failed mid-traversal without losing or repeating its events', async () => {
    await fc.assert(
      fc.asyncProperty(sourcesArbitrary, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 6 }), async (specs, pageSize, failAtPage) => {
        const fakes = specs.map((spec) => new FakeDataSource(spec.sourceId, spec.events, () => spec.batch));
        const registry = registryOf(fakes);
        const deps = { sources: registry, cursors, caches: createGatewayCaches(), scanBudgetRequests: 50, settleWindowMs: 0, cursorScope: '', signal: AbortSignal.timeout(10_000) };
        const listed: AuditEventModel[] = [];
        let after: string | null = null;
        for (let pageNumber = 0; pageNumber < 500; pageNumber++) {
          if (pageNumber === failAtPage) fakes[0]!.failNext = 1;
          const page = await loadEventConnection({ first: pageSize, after }, deps);
          listed.push(...page.edges.map((edge) => edge.node));
          if (!page.pageInfo.hasNextPage) break;
          after = page.pageInfo.endCursor;
        }
        const ids = listed.map((event) => keyOf(event).join('|'));
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual(specs.flatMap((spec) => spec.events).map((event) => keyOf(event).join('|')).sort());
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
