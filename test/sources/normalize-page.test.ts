import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createGatewayCaches } from '../../src/connection/caches';
import { ErrorCode, UpstreamError } from '../../src/errors';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection } from '../../src/connection/events-connection';
import type { RequestCounter } from '../../src/http/upstream-client';
import type { Logger } from '../../src/logger';
import type { ListEventsRequest, ListEventsResult } from '../../src/sources/data-source';
import { normalizePage, normalizeRecord, UnusableRecord } from '../../src/sources/normalize-page';
import { FakeDataSource, fakeEvent, registryOf } from '../connection/fake-source';

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

const parse = (value: unknown) => {
  const record = value as { id?: string; at?: number };
  if (typeof record.at !== 'number') throw new UnusableRecord('no time');
  return record;
};
const normalize = (record: { id?: string; at?: number }, sourceId: string) => fakeEvent(sourceId, record.id ?? 'x', record.at!);

describe('normalizePage (the record policy)', () => {
  it('serves the usable records, counts the rest, and logs each by its raw id', async () => {
    const { logger, lines } = capturingLogger();
    const counter: RequestCounter = { requests: 1 };
    const page = await normalizePage('s', [{ id: 'a', at: 1 }, { id: 'bad-1' }, { id: 'b', at: 2 }, { id: 'bad-2', at: 'noon' }], parse, normalize, { logger, counter });
    expect(page.events.map((event) => event.sourceEventId)).toEqual(['a', 'b']);
    expect(page.unusable).toBe(2);
    expect(counter.unusableRecords).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ source: 's', count: 2, records: 4, unusable: [{ id: 'bad-1', reason: 'no time' }, { id: 'bad-2', reason: 'no time' }] });
  });

  it('still refuses a page whose list is not a list', async () => {
    const { logger } = capturingLogger();
    await expect(normalizePage('s', { items: [] }, parse, normalize, { logger })).rejects.toThrow(UpstreamError);
  });

  it('lets other work run while a long page is normalised, and still serves it whole and in order', async () => {
    const { logger } = capturingLogger();
    const records = Array.from({ length: 200 }, (_, index) => ({ id: `r${index}`, at: index }));
    // About 0.2 ms a record: the page takes some 40 ms, longer than one slice.
    const slowly = (record: { id?: string; at?: number }, sourceId: string) => {
      const until = performance.now() + 0.2;
      while (performance.now() < until);
      return normalize(record, sourceId);
    };
    let done = false;
    const pending = normalizePage('s', records, parse, slowly, { logger }).then((page) => {
      done = true;
      return page;
    });
    const otherWork = new Promise<boolean>((resolve) => setImmediate(() => resolve(!done)));
    expect(await otherWork).toBe(true);
    expect((await pending).events.map((event) => event.sourceEventId)).toEqual(records.map((record) => record.id));
  });

  it('refuses a record looked up by id that cannot be placed, rather than answering null', () => {
    expect(() => normalizeRecord('s', { id: 'bad' }, parse, normalize)).toThrow(expect.objectContaining({ code: ErrorCode.UpstreamMalformedResponse }));
  });
});

describe('unusable records in a connection', () => {
  it('are reported in the source status and in a warning, and the page still lists the rest', async () => {
    const events = Array.from({ length: 30 }, (_, i) => fakeEvent('s0', `e${i}`, 1_000_000 + i));
    const source = new FakeDataSource('s0', events, () => 10);
    const list = source.listEvents.bind(source);
    // The upstream's first page held two records that could not be placed.
    source.listEvents = async (request: ListEventsRequest): Promise<ListEventsResult> => ({ ...(await list(request)), unusableRecords: request.resume === null ? 2 : 0 });
    const deps = {
      sources: registryOf([source]),
      cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }),
      caches: createGatewayCaches(),
      scanBudgetRequests: 20,
      cursorScope: '',
      settleWindowMs: 0,
      signal: AbortSignal.timeout(10_000),
    };
    const page = await loadEventConnection({ first: 5 }, deps);
    expect(page.edges).toHaveLength(5);
    expect(page.sourceStatuses[0]).toMatchObject({ sourceId: 's0', unusableRecords: 2 });
    expect(page.warnings).toEqual([expect.objectContaining({ code: 'UNUSABLE_RECORDS', source: 's0', count: 2 })]);
  });
});
