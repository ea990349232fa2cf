import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import type { AuthConfig } from '../../src/auth';
import { BUNDLE_FILES, type Manifest } from '../../src/export/manifest';
import { verifyExport } from '../../src/export/verify';
import { vendorModules } from '../../src/vendors';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { lineOfOffset, keyPair } from '../export/bundle-fixture';
import { signatureFile } from '../../src/export/signature';
import { exportById, exportSettings, fetchPath, startExport, unzipTo, waitForExport, type ExportView, TRAVERSED_FIELDS, type TraversedEvent } from '../helpers/exports';
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway';

const run = promisify(execFile);
/** The bin `npx audit-gateway` runs: compiled by `npm test` before jest, as a user's `npm run build` does. */
const CLI = path.resolve(__dirname, '../../dist/src/export/cli.js');
const modules = Object.values(vendorModules).filter((module) => module !== undefined);
/** More than the largest batch of every source, so that each is read in several batches that grow. */
const PER_SOURCE = 1100;

const TRAVERSAL = `query ($after: String, $filter: AuditEventFilter, $orderBy: AuditEventOrder) {
  auditEvents(first: 100, after: $after, filter: $filter, orderBy: $orderBy) {
    nodes { ${TRAVERSED_FIELDS} } pageInfo { hasNextPage endCursor } asOf
  }
}`;

/** Every event `auditEvents` lists for the filter and order, page by page. */
async function traverse(setup: TestGateway, filter: Record<string, unknown> | null, orderBy: Record<string, unknown> | null): Promise<TraversedEvent[]> {
  const events: TraversedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const response: GraphQLResponse<{ auditEvents: { nodes: TraversedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }> = await setup.query(TRAVERSAL, { after, filter, orderBy });
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    events.push(...response.data!.auditEvents.nodes);
    if (!response.data!.auditEvents.pageInfo.hasNextPage) return events;
    after = response.data!.auditEvents.pageInfo.endCursor;
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const jsonlEvents = (dir: string) =>
  fs
    .readFileSync(path.join(dir, BUNDLE_FILES.jsonl), 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as Record<string, unknown> & { sourceId: string });

describe('evidence exports over the five simulators', () => {
  let setup: TestGateway;
  let work: string;
  let settings: ReturnType<typeof exportSettings>;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-it-'));
    settings = exportSettings(path.join(work, 'exports'), { sourceRetries: 3 });
    setup = await startTestGateway(
      modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: PER_SOURCE, seed: 40 + index })),
      { exports: settings },
      { exportTimings: { retryDelayMs: () => 10 } },
    );
  });
  afterAll(async () => {
    await setup?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const simulator of setup.simulators.values()) {
      simulator.control.knobs.errorRate = 0;
      simulator.control.knobs.latencyMs = 0;
    }
  });

  /** Runs an export to its end and extracts its archive. */
  async function exportTo(input: Record<string, unknown>, name: string): Promise<{ view: ExportView; archive: Buffer; dir: string }> {
    const started = await startExport(setup, input);
    expect(started.status).toBe('RUNNING');
    const view = await waitForExport(setup, started.id);
    expect(view).toMatchObject({ status: 'COMPLETED', complete: true, error: null });
    const download = await fetchPath(setup, view.downloadUrl!);
    expect(download.status).toBe(200);
    const dir = path.join(work, name);
    await unzipTo(download.body, dir);
    const archive = path.join(work, `${name}.zip`);
    fs.writeFileSync(archive, download.body);
    return { view, archive: download.body, dir };
  }

  describe('a bundle of every event', () => {
    let view: ExportView;
    let archive: Buffer;
    let dir: string;
    let manifest: Manifest;

    beforeAll(async () => {
      ({ view, archive, dir } = await exportTo({}, 'all'));
      manifest = JSON.parse(fs.readFileSync(path.join(dir, BUNDLE_FILES.manifest), 'utf8')) as Manifest;
    });

    it('holds, event for event, what a full auditEvents traversal lists, in its order', async () => {
      const traversed = await traverse(setup, null, null);
      const exported = jsonlEvents(dir);
      expect(traversed).toHaveLength(5 * PER_SOURCE);
      expect(exported.map((event) => event['id'])).toEqual(traversed.map((event) => event.id));
      expect(exported.map((event) => [event['occurredAt'], event['action'], event['sourceEventId'], event.sourceId, event['raw']])).toEqual(
        traversed.map((event) => [event.occurredAt, event.action, event.sourceEventId, event.source.sourceId, event.raw]),
      );
      expect(view.progress).toEqual({ eventsWritten: 5 * PER_SOURCE, sourcesDone: 5, sourcesTotal: 5 });
      expect(view.sourceStatuses.every((status) => status.status === 'COMPLETE' && status.eventsWritten === PER_SOURCE)).toBe(true);
    });

    it('has a manifest that lists every file with its SHA-256, the counts, the snapshot and the final chain hash', () => {
      expect(fs.readdirSync(dir).sort()).toEqual([BUNDLE_FILES.csv, BUNDLE_FILES.jsonl, BUNDLE_FILES.manifest, BUNDLE_FILES.signature]);
      for (const file of manifest.files) expect(sha256(fs.readFileSync(path.join(dir, file.name)))).toBe(file.sha256);
      expect(manifest).toMatchObject({ complete: true, asOf: view.asOf, orderBy: { direction: 'DESC' }, events: { count: 5 * PER_SOURCE, chain: { final: view.chainHash } } });
      expect(manifest.gateway).toEqual({ name: 'audit-gateway', version: JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')).version });
      expect(manifest.sources.map((source) => [source.sourceId, source.status, source.events])).toEqual(modules.map((module) => [`${module.vendor}-main`, 'COMPLETE', PER_SOURCE]).sort());
      expect(view.manifestSha256).toBe(sha256(fs.readFileSync(path.join(dir, BUNDLE_FILES.manifest))));
      expect(view.archive).toMatchObject({ bytes: archive.length, sha256: sha256(archive) });
      // One CSV record per event after the header.
      const csv = fs.readFileSync(path.join(dir, BUNDLE_FILES.csv), 'utf8');
      expect(csv.startsWith('id,occurred_at,source_id,')).toBe(true);
      expect(manifest.files.find((file) => file.name === BUNDLE_FILES.csv)!.records).toBe(5 * PER_SOURCE);
    });

    it('verifies offline, with the library and with the compiled bin, against the published key', async () => {
      const key = await fetchPath(setup, '/exports/public-key');
      expect(key.status).toBe(200);
      const published = await setup.query<{ exportPublicKey: { pem: string; keyId: string; algorithm: string } }>('{ exportPublicKey { pem keyId algorithm } }');
      expect(published.data!.exportPublicKey).toEqual({ pem: key.body.toString(), keyId: manifest.signature.keyId, algorithm: 'Ed25519' });
      const keyFile = path.join(work, 'gateway.pem');
      fs.writeFileSync(keyFile, key.body);

      expect(await verifyExport(path.join(work, 'all.zip'), { publicKeyPem: key.body.toString() })).toMatchObject({ status: 'ok', events: 5 * PER_SOURCE, complete: true });
      expect(await verifyExport(dir, { publicKeyPem: key.body.toString() })).toMatchObject({ status: 'ok' });
      const ok = await run(process.execPath, [CLI, 'verify-export', path.join(work, 'all.zip'), '--public-key', keyFile]);
      expect(ok.stdout).toMatch(new RegExp(`^OK ${5 * PER_SOURCE} events`));
    });

    it('is refused, naming the file and line, when one byte of any of its files changes (library and bin)', async () => {
      const names = [BUNDLE_FILES.jsonl, BUNDLE_FILES.csv, BUNDLE_FILES.manifest, BUNDLE_FILES.signature];
      const originals = new Map(names.map((name) => [name, fs.readFileSync(path.join(dir, name))]));
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...names), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 255 }), async (name, where, xor) => {
          const bytes = Buffer.from(originals.get(name)!);
          const offset = Math.floor(where * bytes.length);
          bytes[offset] = bytes[offset]! ^ xor;
          fs.writeFileSync(path.join(dir, name), bytes);
          try {
            const line = name === BUNDLE_FILES.jsonl || name === BUNDLE_FILES.csv ? lineOfOffset(bytes, offset) : null;
            const result = await verifyExport(dir, { publicKeyPem: settings.publicKeyPem });
            expect(result).toMatchObject({ status: 'tampered', file: name, ...(line === null ? {} : { line }) });
            // Every other run through the compiled bin: exit 1 and the file (and line) on stdout.
            if (runs++ % 2 === 0) {
              const keyFile = path.join(work, 'key.pem');
              fs.writeFileSync(keyFile, settings.publicKeyPem);
              const failure = await run(process.execPath, [CLI, 'verify-export', dir, '--public-key', keyFile]).then(
                () => null,
                (error: { code: number; stdout: string }) => error,
              );
              expect(failure?.code).toBe(1);
              expect(failure?.stdout).toContain(`TAMPERED ${name}${line === null ? '' : `:${line}:`}`);
            }
          } finally {
            fs.writeFileSync(path.join(dir, name), originals.get(name)!);
          }
        }),
        { numRuns: 8 },
      );
    });

    it('is refused when one byte of the compressed events changes inside the archive', async () => {
      const at = archive.indexOf(Buffer.from(BUNDLE_FILES.jsonl)) + BUNDLE_FILES.jsonl.length + 200;
      const damaged = Buffer.from(archive);
      damaged[at] = damaged[at]! ^ 0x40;
      const file = path.join(work, 'damaged.zip');
      fs.writeFileSync(file, damaged);
      expect(await verifyExport(file, { publicKeyPem: settings.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.jsonl });
    });

    it('is refused when another key signed the manifest; the bin exits 2 for input it cannot use', async () => {
      const other = keyPair();
      const forged = path.join(work, 'forged');
      fs.cpSync(dir, forged, { recursive: true });
      fs.writeFileSync(path.join(forged, BUNDLE_FILES.signature), signatureFile(fs.readFileSync(path.join(forged, BUNDLE_FILES.manifest)), other.privateKey));
      expect(await verifyExport(forged, { publicKeyPem: settings.publicKeyPem })).toMatchObject({ status: 'tampered', file: BUNDLE_FILES.manifest, problem: expect.stringMatching(/does not verify/) });
      const unusable = await run(process.execPath, [CLI, 'verify-export', path.join(work, 'no-such.zip')]).catch((error: { code: number; stderr: string }) => error);
      expect(unusable).toMatchObject({ code: 2, stderr: expect.stringMatching(/^UNUSABLE/) });
    });

    it('downloads with Content-Length and a strong ETag, answers If-None-Match with 304 and HEAD without a body', async () => {
      const first = await fetchPath(setup, view.downloadUrl!);
      expect(first.headers['content-length']).toBe(String(archive.length));
      expect(first.headers['etag']).toBe(`"${sha256(archive)}"`);
      expect(first.headers['content-type']).toBe('application/zip');
      const again = await fetchPath(setup, view.downloadUrl!, { 'if-none-match': first.headers['etag'] as string });
      expect(again.status).toBe(304);
      expect(again.body).toHaveLength(0);
      const changed = await fetchPath(setup, view.downloadUrl!, { 'if-none-match': '"other"' });
      expect(changed.status).toBe(200);
      const head = await fetchPath(setup, view.downloadUrl!, {}, 'HEAD');
      expect(head).toMatchObject({ status: 200, body: Buffer.alloc(0) });
      expect(head.headers['content-length']).toBe(String(archive.length));
      expect((await fetchPath(setup, '/exports/nonsense')).status).toBe(404);
    });

    it('is found again by node(id), and only as what it is', async () => {
      const response = await setup.query<{ node: { __typename: string; id: string; status: string } | null }>('query ($id: ID!) { node(id: $id) { __typename id ... on AuditExport { status } } }', { id: view.id });
      expect(response.data!.node).toEqual({ __typename: 'AuditExport', id: view.id, status: 'COMPLETED' });
    });
  });

  it('exports a filtered window oldest first exactly as auditEvents pages it', async () => {
    const all = await traverse(setup, null, { direction: 'ASC' });
    const from = all[Math.floor(all.length / 4)]!.occurredAt;
    const to = all[Math.floor((all.length * 3) / 4)]!.occurredAt;
    const filter = { from, to, categories: ['ACCESS', 'AUTHENTICATION', 'ADMIN', 'DATA'] };
    const traversed = await traverse(setup, filter, { direction: 'ASC' });
    expect(traversed.length).toBeGreaterThan(100);
    const { dir, view } = await exportTo({ filter, orderBy: { direction: 'ASC' }, formats: ['JSONL'] }, 'window');
    expect(fs.readdirSync(dir).sort()).toEqual([BUNDLE_FILES.jsonl, BUNDLE_FILES.manifest, BUNDLE_FILES.signature]);
    expect(jsonlEvents(dir).map((event) => event['id'])).toEqual(traversed.map((event) => event.id));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, BUNDLE_FILES.manifest), 'utf8')) as Manifest;
    expect(manifest.filter).toEqual({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), categories: filter.categories });
    expect(manifest.orderBy.direction).toBe('ASC');
    expect(view.files.map((file) => file.name)).toEqual([BUNDLE_FILES.jsonl, BUNDLE_FILES.manifest, BUNDLE_FILES.signature]);
  });

  it('refuses a bad filter exactly as auditEvents does, before any job starts; a bad id is BAD_USER_INPUT, an unknown one null', async () => {
    const before = fs.readdirSync(settings.dir).length;
    for (const filter of [{ sources: ['no-such-source'] }, { clientIps: ['999.1.1.1'] }, { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }]) {
      const page = await setup.query('query ($filter: AuditEventFilter) { auditEvents(filter: $filter) { nodes { id } } }', { filter });
      const started = await setup.query('mutation ($filter: AuditEventFilter) { startAuditExport(input: {filter: $filter}) { id } }', { filter });
      expect(started.errors).toHaveLength(1);
      expect(started.errors![0]!.message).toBe(page.errors![0]!.message);
      // The same error but for the request it came with.
      const { requestId: _startRequest, ...startExtensions } = started.errors![0]!.extensions ?? {};
      const { requestId: _pageRequest, ...pageExtensions } = page.errors![0]!.extensions ?? {};
      expect(startExtensions).toEqual(pageExtensions);
    }
    const noFormats = await setup.query('mutation { startAuditExport(input: {formats: []}) { id } }');
    expect(noFormats.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.formats' });
    expect(fs.readdirSync(settings.dir)).toHaveLength(before);

    const malformed = await setup.query('{ auditExport(id: "not an id") { id } }');
    expect(malformed.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_ID' });
    const unknown = Buffer.from(JSON.stringify(['AX', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    expect((await setup.query('query ($id: ID!) { auditExport(id: $id) { id } }', { id: unknown })).data).toEqual({ auditExport: null });
    expect((await setup.query('query ($id: ID!) { cancelAuditExport(id: $id) { id } }'.replace('query', 'mutation'), { id: unknown })).data).toEqual({ cancelAuditExport: null });
    expect((await fetchPath(setup, `/exports/${unknown}`)).status).toBe(404);
  });

  it('reads a source that failed for a moment again from where it stopped: nothing lost, repeated or out of order', async () => {
    const traversed = await traverse(setup, null, null);
    for (const simulator of setup.simulators.values()) simulator.control.knobs.latencyMs = 5;
    const started = await startExport(setup);
    await waitForExport(setup, started.id, {}, (view) => view.progress.eventsWritten > 1000);
    // More failures in a row than the upstream client retries: the source fails for the export, which reads it again.
    setup.simulators.get('asana-main')!.control.inject({ kind: 'status', status: 503 }, 3);
    setup.simulators.get('port-main')!.control.inject({ kind: 'invalid-json' }, 2);
    const view = await waitForExport(setup, started.id);
    expect(view).toMatchObject({ status: 'COMPLETED', complete: true });
    const dir = path.join(work, 'recovered');
    await unzipTo((await fetchPath(setup, view.downloadUrl!)).body, dir);
    expect(jsonlEvents(dir).map((event) => event['id'])).toEqual(traversed.map((event) => event.id));
    expect(await verifyExport(dir, { publicKeyPem: settings.publicKeyPem })).toMatchObject({ status: 'ok' });
  });

  it('cancels a running export and deletes its partial files', async () => {
    for (const simulator of setup.simulators.values()) simulator.control.knobs.latencyMs = 15;
    const started = await startExport(setup);
    await waitForExport(setup, started.id, {}, (view) => view.progress.eventsWritten > 0);
    const cancelled = await setup.query<{ cancelAuditExport: ExportView }>('mutation ($id: ID!) { cancelAuditExport(id: $id) { status completedAt } }', { id: started.id });
    expect(cancelled.data!.cancelAuditExport).toMatchObject({ status: 'CANCELLED' });
    const jobId = JSON.parse(Buffer.from(started.id, 'base64url').toString())[1] as string;
    expect(fs.readdirSync(settings.dir).filter((name) => name.startsWith(jobId))).toEqual([`${jobId}.json`]);
    expect((await exportById(setup, started.id))!.status).toBe('CANCELLED');
  });

  // Last of this gateway's tests: the failures it provokes open nirvana-main's circuit breaker,
  // which would fail the next export on this gateway at once.
  it('fails, naming the source, when a source keeps failing mid-export; nothing is left to download', async () => {
    const failing = setup.simulators.get('nirvana-main')!;
    for (const simulator of setup.simulators.values()) simulator.control.knobs.latencyMs = 15;
    const started = await startExport(setup);
    await waitForExport(setup, started.id, {}, (view) => view.progress.eventsWritten > 0);
    failing.control.knobs.errorRate = 1;
    const view = await waitForExport(setup, started.id);
    expect(view).toMatchObject({ status: 'FAILED', downloadUrl: null, archive: null, error: { sourceId: 'nirvana-main', code: expect.stringMatching(/^UPSTREAM_/) } });
    expect(view.error!.message).toContain("source 'nirvana-main'");
    expect(view.sourceStatuses.find((status) => status.sourceId === 'nirvana-main')).toMatchObject({ status: 'INCOMPLETE', errorCode: view.error!.code });
    const jobId = JSON.parse(Buffer.from(started.id, 'base64url').toString()) [1] as string;
    expect(fs.readdirSync(settings.dir).filter((name) => name.startsWith(jobId))).toEqual([`${jobId}.json`]);
  });
});

describe('evidence exports that tolerate a failing source', () => {
  it('complete, with the source INCOMPLETE in the manifest and the bundle still verifying', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-tolerate-'));
    const settings = exportSettings(work, { tolerateSourceFailure: true, sourceRetries: 0 });
    const setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 800 },
        { id: 'port-main', module: portModule, size: 800 },
      ],
      { exports: settings },
    );
    try {
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 15;
      const started = await startExport(setup);
      await waitForExport(setup, started.id, {}, (view) => view.progress.eventsWritten > 0);
      setup.simulators.get('nirvana-main')!.control.knobs.errorRate = 1;
      const view = await waitForExport(setup, started.id);
      expect(view).toMatchObject({ status: 'COMPLETED', complete: false, error: null });
      const nirvana = view.sourceStatuses.find((status) => status.sourceId === 'nirvana-main')!;
      expect(nirvana).toMatchObject({ status: 'INCOMPLETE', errorCode: expect.stringMatching(/^UPSTREAM_/) });
      expect(nirvana.eventsWritten).toBeLessThan(800);
      expect(view.sourceStatuses.find((status) => status.sourceId === 'port-main')).toMatchObject({ status: 'COMPLETE', eventsWritten: 800 });
      const download = await fetchPath(setup, view.downloadUrl!);
      const archive = path.join(work, 'incomplete.zip');
      fs.writeFileSync(archive, download.body);
      expect(await verifyExport(archive, { publicKeyPem: settings.publicKeyPem })).toMatchObject({ status: 'ok', complete: false, incompleteSources: ['nirvana-main'] });
    } finally {
      await setup.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('evidence exports and callers', () => {
  const keys = { alice: `a-${randomBytes(12).toString('hex')}`, bob: `b-${randomBytes(12).toString('hex')}` };
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');
  let setup: TestGateway;
  let work: string;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-auth-'));
    const auth: AuthConfig = {
      mode: 'required',
      apiKeys: [
        { id: 'alice', sha256: digest(keys.alice), sources: '*' },
        { id: 'bob', sha256: digest(keys.bob), sources: ['port-main'] },
      ],
      jwt: null,
    };
    setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 200 },
        { id: 'port-main', module: portModule, size: 200 },
      ],
      { auth, exports: exportSettings(work, { ttlSeconds: 1 }) },
      { exportTimings: { sweepIntervalMs: 100 } },
    );
  });
  afterAll(async () => {
    await setup?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('shows an export to the caller that started it only, downloads it to that caller only, and deletes it when it expires', async () => {
    const started = await startExport(setup, {}, bearer(keys.alice));
    const view = await waitForExport(setup, started.id, bearer(keys.alice));
    expect(view.status).toBe('COMPLETED');
    expect(view.progress.eventsWritten).toBe(400);

    expect(await exportById(setup, started.id, bearer(keys.bob))).toBeNull();
    const asNode = await setup.query('query ($id: ID!) { node(id: $id) { id } }', { id: started.id }, bearer(keys.bob));
    expect(asNode.data).toEqual({ node: null });
    const cancel = await setup.query('mutation ($id: ID!) { cancelAuditExport(id: $id) { id } }', { id: started.id }, bearer(keys.bob));
    expect(cancel.data).toEqual({ cancelAuditExport: null });
    expect((await fetchPath(setup, view.downloadUrl!, bearer(keys.bob))).status).toBe(404);
    const anonymous = await fetchPath(setup, view.downloadUrl!);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await fetchPath(setup, '/exports/public-key')).status).toBe(200);
    expect((await fetchPath(setup, view.downloadUrl!, bearer(keys.alice))).status).toBe(200);

    // A narrower caller's export holds its own sources only.
    const bobs = await waitForExport(setup, (await startExport(setup, {}, bearer(keys.bob))).id, bearer(keys.bob));
    expect(bobs.sourceStatuses.map((status) => status.sourceId)).toEqual(['port-main']);

    // ttlSeconds: 1, swept every 100 ms.
    const jobId = JSON.parse(Buffer.from(started.id, 'base64url').toString())[1] as string;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(fs.readdirSync(work).filter((name) => name.startsWith(jobId))).toEqual([]);
    expect(await exportById(setup, started.id, bearer(keys.alice))).toBeNull();
    expect((await fetchPath(setup, view.downloadUrl!, bearer(keys.alice))).status).toBe(404);
  });
});

describe('evidence exports across a restart', () => {
  it('marks a job left RUNNING on disk FAILED when a gateway starts on the same directory', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-restart-'));
    const settings = exportSettings(work);
    const specs = [{ id: 'nirvana-main', module: nirvanaModule, size: 2000 }];
    const first = await startTestGateway(specs, { exports: settings });
    let id: string;
    let jobFile: string;
    let running: string;
    try {
      first.simulators.get('nirvana-main')!.control.knobs.latencyMs = 20;
      id = (await startExport(first)).id;
      const jobId = JSON.parse(Buffer.from(id, 'base64url').toString())[1] as string;
      jobFile = path.join(work, `${jobId}.json`);
      running = fs.readFileSync(jobFile, 'utf8');
      expect(JSON.parse(running)).toMatchObject({ status: 'RUNNING' });
    } finally {
      await first.close();
    }
    // A graceful stop records why it ended; a crash leaves RUNNING behind, as here.
    expect(JSON.parse(fs.readFileSync(jobFile, 'utf8'))).toMatchObject({ status: 'FAILED', error: { code: 'GATEWAY_STOPPED' } });
    fs.writeFileSync(jobFile, running);
    const second = await startTestGateway(specs, { exports: settings });
    try {
      expect(await exportById(second, id)).toMatchObject({ status: 'FAILED', error: { code: 'GATEWAY_RESTARTED' }, downloadUrl: null });
      expect(JSON.parse(fs.readFileSync(jobFile, 'utf8'))).toMatchObject({ status: 'FAILED' });
    } finally {
      await second.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('evidence exports at their limit', () => {
  it('refuses an export beyond maxConcurrent with EXPORT_LIMIT_REACHED, and takes one again once one has ended', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-limit-'));
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 2000 }], { exports: exportSettings(work, { maxConcurrent: 1 }) });
    try {
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 20;
      const first = await startExport(setup);
      const refused = await setup.query('mutation { startAuditExport(input: {}) { id } }');
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'EXPORT_LIMIT_REACHED' });
      await setup.query('mutation ($id: ID!) { cancelAuditExport(id: $id) { status } }', { id: first.id });
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 0;
      expect((await waitForExport(setup, (await startExport(setup)).id)).status).toBe('COMPLETED');
    } finally {
      await setup.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('a gateway without server.exports', () => {
  it('answers every export field with EXPORTS_DISABLED, and the routes with 404', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }]);
    try {
      for (const query of ['mutation { startAuditExport(input: {}) { id } }', '{ exportPublicKey { pem } }', '{ auditExport(id: "x") { id } }']) {
        const response = await setup.query(query);
        expect(response.status).toBe(200);
        expect(response.errors![0]!.extensions).toMatchObject({ code: 'EXPORTS_DISABLED' });
      }
      const key = await fetchPath(setup, '/exports/public-key');
      expect(key.status).toBe(404);
      expect(JSON.parse(key.body.toString())).toMatchObject({ errors: [{ extensions: { code: 'EXPORTS_DISABLED' } }] });
    } finally {
      await setup.close();
    }
  });
});
