import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { BUNDLE_FILES } from '../../src/export/manifest';
import { verifyExport } from '../../src/export/verify';
import { vendorModules } from '../../src/vendors';
import { exportSettings, fetchPath, startExport, waitForExport, TRAVERSED_FIELDS, type TraversedEvent } from '../helpers/exports';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway';

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
/** 100,000 events over the five vendors. */
const PER_SOURCE = 20_000;

const TRAVERSAL = `query ($after: String) {
  auditEvents(first: 100, after: $after) {
    nodes { ${TRAVERSED_FIELDS} } pageInfo { hasNextPage endCursor }
  }
}`;

/** The lines of `events.jsonl` inside the archive at `file`, read as a stream (the file is some 150 MB). */
async function* jsonlLines(file: string): AsyncGenerator<Record<string, unknown>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== BUNDLE_FILES.jsonl) continue;
      const stream = (await zip.openReadStreamPromise(entry)) as Readable;
      for await (const line of readline.createInterface({ input: stream, crlfDelay: Infinity })) {
        if (line.length > 0) yield JSON.parse(line) as Record<string, unknown>;
      }
      return;
    }
    throw new Error(`no ${BUNDLE_FILES.jsonl} in the archive`);
  } finally {
    zip.close();
  }
}

describe('an evidence export of 100,000 events over the five vendors', () => {
  let setup: TestGateway;
  let work: string;
  let settings: ReturnType<typeof exportSettings>;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-large-'));
    settings = exportSettings(path.join(work, 'exports'));
    setup = await startTestGateway(
      modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: PER_SOURCE, seed: 70 + index })),
      { exports: settings },
    );
  });
  afterAll(async () => {
    await setup?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('equals, event for event, a full auditEvents traversal of the same snapshot, and verifies', async () => {
    const requestsBefore = new Map([...setup.simulators].map(([id, simulator]) => [id, simulator.control.stats.requests]));
    const started = await startExport(setup, {});
    const view = await waitForExport(setup, started.id, {}, (current) => current.status !== 'RUNNING', 600_000);
    expect(view).toMatchObject({ status: 'COMPLETED', complete: true, error: null });
    expect(view.progress).toEqual({ eventsWritten: 5 * PER_SOURCE, sourcesDone: 5, sourcesTotal: 5 });
    // Each source is read once, in batches that grow to its largest page or 1,000 events: within
    // the traversal bound of the performance targets, 3 x ceil(N / min(largest page, 1000)) + 2.
    const { sources } = (await setup.query<{ sources: Array<{ sourceId: string; capabilities: { maxPageSize: number } }> }>('{ sources { sourceId capabilities { maxPageSize } } }')).data!;
    const overBound = sources
      .map(({ sourceId, capabilities }) => ({
        sourceId,
        requests: setup.simulators.get(sourceId)!.control.stats.requests - requestsBefore.get(sourceId)!,
        bound: 3 * Math.ceil(PER_SOURCE / Math.min(capabilities.maxPageSize, 1000)) + 2,
      }))
      .filter(({ requests, bound }) => requests > bound);
    expect(overBound).toEqual([]);

    const download = await fetchPath(setup, view.downloadUrl!);
    expect(download.status).toBe(200);
    const archive = path.join(work, 'all.zip');
    fs.writeFileSync(archive, download.body);
    expect(await verifyExport(archive, { publicKeyPem: settings.publicKeyPem })).toMatchObject({ status: 'ok', events: 5 * PER_SOURCE, complete: true });

    // The data sets end before the test starts and never grow, so a traversal now lists the
    // export's snapshot; compared page by page against the archive's lines, in bounded memory.
    const lines = jsonlLines(archive);
    let after: string | null = null;
    let compared = 0;
    for (;;) {
      const response: GraphQLResponse<{ auditEvents: { nodes: TraversedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }> = await setup.query(TRAVERSAL, { after });
      expect(response.errors).toBeUndefined();
      const page = response.data!.auditEvents;
      const exported: Array<Record<string, unknown>> = [];
      for (let i = 0; i < page.nodes.length; i++) {
        const next = await lines.next();
        if (next.done) throw new Error(`the export ends after ${compared + i} events; the traversal goes on`);
        exported.push(next.value);
      }
      expect(exported.map((event) => [event['id'], event['occurredAt'], event['action'], event['sourceEventId'], event['sourceId'], event['raw']])).toEqual(
        page.nodes.map((event) => [event.id, event.occurredAt, event.action, event.sourceEventId, event.source.sourceId, event.raw]),
      );
      compared += page.nodes.length;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(compared).toBe(5 * PER_SOURCE);
    expect((await lines.next()).done).toBe(true);
  }, 900_000);
});
