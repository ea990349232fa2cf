import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { request } from 'undici';
import type { AuthConfig } from '../../src/auth';
import { exportSettings, fetchPath, startExport, unzipTo, waitForExport } from '../helpers/exports';
import type { TestGateway } from '../helpers/gateway';
import { startHarness, STACK_LINE, type Answer, type Harness, type HarnessSource } from './reliability-harness';

/**
 * Secrets, request ids, CORS and rate-limit headers, over loopback HTTP against every vendor
 * simulator: the security cases of docs/reliability.md that other tests do not cover.
 */

const CANARY = 'CANARY-7f3c9d2e';

/** Every vendor, each simulator accepting only canary credentials. */
/**
 * Redaction, not timing, is under test: upstream deadlines well beyond a loaded CI machine's
 * slowest answer, so that every faulted page fails with the fault injected and not a timeout.
 */
const PATIENT = { config: { timeouts: { connectMs: 5_000, headersMs: 8_000, bodyMs: 8_000, requestMs: 10_000 } } };
const CANARY_SOURCES: HarnessSource[] = [
  { id: 'nirvana-main', vendor: 'nirvana', size: 120, simulatorOptions: { apiKey: `${CANARY}-nirvana` }, ...PATIENT },
  { id: 'asana-main', vendor: 'asana', size: 120, simulatorOptions: { token: `${CANARY}-asana` }, ...PATIENT },
  { id: 'agilicus-main', vendor: 'agilicus', size: 120, simulatorOptions: { token: `${CANARY}-agilicus` }, ...PATIENT },
  { id: 'complianceagent-main', vendor: 'complianceagent', size: 120, simulatorOptions: { apiKey: `${CANARY}-complianceagent` }, ...PATIENT },
  { id: 'port-main', vendor: 'port', size: 120, simulatorOptions: { clientId: `${CANARY}-port-id`, clientSecret: `${CANARY}-port-secret` }, ...PATIENT },
];

const PAGE = `query ($first: Int, $after: String, $order: SortDirection) {
  auditEvents(first: $first, after: $after, orderBy: { direction: $order }) {
    edges { cursor node { id raw source { sourceId } actor { name node { id } } } }
    pageInfo { endCursor hasNextPage }
    sourceStatuses { source { sourceId } status }
  }
}`;

interface PageData {
  auditEvents: {
    edges: Array<{ cursor: string; node: { id: string; source: { sourceId: string } } }>;
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  } | null;
}

/** The texts a base64url token may hide: itself, its decoding, and a deflated cursor payload inflated. */
function decodings(token: string): string[] {
  const bytes = Buffer.from(token, 'base64url');
  const texts = [bytes.toString('utf8')];
  // A cursor: version (1) | key id (4) | payload | MAC (16); version 2 payloads are deflated.
  if (bytes.length > 21 && bytes[0] === 2) {
    try {
      texts.push(inflateRawSync(bytes.subarray(5, bytes.length - 16)).toString('utf8'));
    } catch {
      // Not a cursor after all.
    }
  }
  return texts;
}

/** Everything a client or an operator could see: bodies, headers, log lines, and every base64url token decoded. */
function everythingSeen(answers: ReadonlyArray<Answer<unknown>>, setup: Harness): string {
  const texts = [...answers.map((answer) => `${answer.text}\n${JSON.stringify(answer.headers)}`), ...setup.logLines];
  const tokens = answers.flatMap((answer) => answer.text.match(/[A-Za-z0-9_-]{24,}/g) ?? []);
  return [...texts, ...tokens.flatMap(decodings)].join('\n');
}

describe('secret redaction with canary credentials on every vendor', () => {
  let setup: Harness;
  const answers: Array<Answer<unknown>> = [];

  beforeAll(async () => {
    setup = await startHarness(CANARY_SOURCES, { cursorSecret: `${CANARY}-cursor-secret-0123456789abcdef` });
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('serves pages, refetches and cursors without the credentials anywhere, base64 decoded or not', async () => {
    for (const order of ['DESC', 'ASC']) {
      let after: string | null = null;
      for (let page = 0; page < 3; page++) {
        const answer: Answer<PageData> = await setup.query<PageData>(PAGE, { first: 40, after, order });
        answers.push(answer);
        expect(answer.errors).toBeUndefined();
        after = answer.data!.auditEvents!.pageInfo.endCursor;
      }
    }
    const ids = answers.flatMap((answer) => ((answer.data as PageData | undefined)?.auditEvents?.edges ?? []).slice(0, 3).map((edge) => edge.node.id));
    answers.push(await setup.query('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ids.slice(0, 30) }));
    const seen = everythingSeen(answers, setup);
    // The sweep reads what it should: decoded cursors and ids are in it.
    expect(seen).toContain('nirvana-main');
    expect(seen).not.toContain(CANARY);
  });

  it('keeps the credentials out of responses and logs when upstreams echo them in errors', async () => {
    const faulted: Array<Answer<unknown>> = [];
    for (const spec of CANARY_SOURCES) {
      const control = setup.simulators.get(spec.id)!.control;
      const echoed = Object.values(spec.simulatorOptions ?? {}).join(' ');
      await setup.idle();
      control.inject({ kind: 'status', status: 500, json: { message: `internal error for key ${echoed}` } }, 3);
      faulted.push(await setup.query<PageData>(PAGE, { first: 5 }));
      await setup.idle();
      control.inject({ kind: 'status', status: 403, json: { message: `key ${echoed} may not read this`, authorization: `Bearer ${echoed}` } }, 2);
      faulted.push(await setup.query<PageData>(PAGE, { first: 5 }));
      await setup.idle();
      control.inject({ kind: 'invalid-json' });
      faulted.push(await setup.query<PageData>(PAGE, { first: 5 }));
    }
    const codes = new Set(faulted.flatMap((answer) => (answer.errors ?? []).map((error) => String(error.extensions?.['code']))));
    expect(codes).toEqual(new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_AUTH_FAILED', 'UPSTREAM_MALFORMED_RESPONSE']));
    // The upstream error bodies did reach the log (scrubbed): the check looks where the secret would be.
    expect(setup.logLines.join('')).toContain('internal error for key [redacted]');
    expect(everythingSeen(faulted, setup)).not.toContain(CANARY);
    for (const answer of faulted) expect(answer.text).not.toMatch(STACK_LINE);
  });
});

describe('an evidence export over canary credentials on every vendor', () => {
  let work: string;
  let setup: Harness;
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'reliability-export-'));
    setup = await startHarness(CANARY_SOURCES, { exports: exportSettings(path.join(work, 'exports')) });
  });
  afterAll(async () => {
    await setup?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('writes no credential into the archive, its files or the log, even when an upstream echoes one mid-export', async () => {
    const gateway = setup as unknown as TestGateway;
    // Every attempt of one call fails with the key in the body: the export reads the source again.
    setup.simulators.get('nirvana-main')!.control.inject({ kind: 'status', status: 500, json: { message: `internal error for key ${CANARY}-nirvana` } }, 3);
    const started = await startExport(gateway);
    const view = await waitForExport(gateway, started.id);
    expect(view).toMatchObject({ status: 'COMPLETED', complete: true });
    expect(view.progress.eventsWritten).toBe(CANARY_SOURCES.length * 120);
    expect(setup.logLines.join('')).toContain('internal error for key [redacted]');
    const archive = await fetchPath(gateway, view.downloadUrl!);
    expect(archive.status).toBe(200);
    const dir = path.join(work, 'bundle');
    const names = await unzipTo(archive.body, dir);
    expect(names.length).toBeGreaterThanOrEqual(3);
    const files = names.map((name) => fs.readFileSync(path.join(dir, name), 'utf8'));
    // The sweep reads what it should: the events' vendor records are in it.
    expect(files.join('\n')).toContain('nirvana-main');
    expect([...files, archive.body.toString('latin1'), JSON.stringify(view), ...setup.logLines].join('\n')).not.toContain(CANARY);
  });
});

describe('an evidence export over a source outside the caller', () => {
  it('is refused with the same UNKNOWN_SOURCE as a source that does not exist, before any job or upstream call', async () => {
    const key = `nv-${randomBytes(16).toString('hex')}`;
    const auth: AuthConfig = { mode: 'required', apiKeys: [{ id: 'nirvana-reader', sha256: createHash('sha256').update(key).digest('hex'), sources: ['nirvana-main'] }], jwt: null };
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reliability-export-scope-'));
    const setup = await startHarness(
      [
        { id: 'nirvana-main', vendor: 'nirvana', size: 30 },
        { id: 'port-main', vendor: 'port', size: 30 },
      ],
      { auth, exports: exportSettings(work) },
    );
    try {
      await setup.idle();
      const before = setup.upstreamCounts();
      const start = (sources: string[]) => setup.query('mutation ($input: StartAuditExportInput!) { startAuditExport(input: $input) { id } }', { input: { filter: { sources } } }, { authorization: `Bearer ${key}` });
      const foreign = await start(['port-main']);
      const missing = await start(['no-such-source']);
      for (const response of [foreign, missing]) {
        expect(response.status).toBe(400);
        expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE' });
      }
      expect(foreign.errors?.[0]?.message.replace('port-main', 'X')).toBe(missing.errors?.[0]?.message.replace('no-such-source', 'X'));
      expect(fs.readdirSync(work)).toEqual([]);
      expect(setup.upstreamCounts()).toEqual(before);
    } finally {
      await setup.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('the bearer token a source exchanged its credentials for (Port)', () => {
  it('is kept out of logs and responses when the upstream echoes it in an error body', async () => {
    const setup = await startHarness([{ id: 'port-main', vendor: 'port', size: 60 }]);
    try {
      const simulator = setup.simulators.get('port-main')!;
      // The simulator hands the same token to the same credentials until it expires: the gateway's token.
      const exchange = await request(`${simulator.baseUrl}/v1/auth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: simulator.credentials['clientId'], clientSecret: simulator.credentials['clientSecret'] }),
      });
      const { accessToken } = (await exchange.body.json()) as { accessToken: string };
      expect(accessToken.length).toBeGreaterThan(10);
      const first = await setup.query<PageData>(PAGE, { first: 5 });
      expect(first.errors).toBeUndefined();

      await setup.idle();
      simulator.control.inject({ kind: 'status', status: 500, json: { message: `bad gateway for Bearer ${accessToken}` } }, 3);
      const answer = await setup.query<PageData>(PAGE, { first: 5 });
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'port-main' });
      expect(setup.logLines.join('')).toContain('bad gateway for Bearer');
      expect(answer.text).not.toContain(accessToken);
      expect(setup.logLines.join('')).not.toContain(accessToken);
    } finally {
      await setup.close();
    }
  });
});

describe('request ids', () => {
  let setup: Harness;
  beforeAll(async () => {
    setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 60 }]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it("answers with the client's x-request-id in the header and in every error's requestId", async () => {
    await setup.idle();
    setup.simulators.get('nirvana-main')!.control.inject({ kind: 'status', status: 503 }, 3);
    const answer = await setup.query<PageData>(PAGE, { first: 5 }, { 'x-request-id': 'abc' });
    expect(answer.headers['x-request-id']).toBe('abc');
    expect(answer.errors?.length).toBeGreaterThan(0);
    for (const error of answer.errors ?? []) expect(error.extensions?.['requestId']).toBe('abc');
    const refused = await setup.query(PAGE, { first: 0 }, { 'x-request-id': 'abc' });
    expect(refused.errors?.[0]?.extensions?.['requestId']).toBe('abc');
  });

  it('replaces a request id that could fake log content with its own', async () => {
    const answer = await setup.query(PAGE, { first: 0 }, { 'x-request-id': `abc","level":60,"x":"${'y'.repeat(80)}` });
    const id = answer.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.errors?.[0]?.extensions?.['requestId']).toBe(id);
  });

  it("puts the client's request id on every log line the request causes", async () => {
    await setup.idle();
    setup.logLines.length = 0;
    setup.simulators.get('nirvana-main')!.control.inject({ kind: 'status', status: 503 }, 3);
    await setup.query<PageData>(PAGE, { first: 5 }, { 'x-request-id': 'abc' });
    await setup.idle();
    const records = setup.logRecords();
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record['reqId']).toBe('abc');
  });
});

describe('browser requests from other origins (CORS)', () => {
  let setup: Harness;
  beforeAll(async () => {
    setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 30 }]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('grants no origin: a preflight and a request from another origin get no Access-Control-* header', async () => {
    const before = setup.upstreamCounts()['nirvana-main'];
    const preflight = await request(setup.gateway.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    await preflight.body.dump();
    expect(preflight.statusCode).toBeGreaterThanOrEqual(400);
    expect(Object.keys(preflight.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    const post = await setup.query('{ sources { sourceId } }', undefined, { origin: 'https://evil.example' });
    expect(Object.keys(post.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    expect(setup.upstreamCounts()['nirvana-main']).toBe(before);
  });
});

describe('per-caller budget headers', () => {
  it('tells a caller its budget with x-ratelimit-limit / -remaining / -reset', async () => {
    const setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 30 }], { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: 100, costPerHour: 5_000 } });
    try {
      // Costs 5 points: one connection of 5 nodes.
      const first = await setup.query('{ auditEvents(first: 5) { nodes { id } } }');
      const second = await setup.query('{ auditEvents(first: 5) { nodes { id } } }');
      for (const answer of [first, second]) {
        expect(answer.status).toBe(200);
        expect(answer.headers['x-ratelimit-limit']).toBe('5000');
        expect(answer.headers['x-ratelimit-resource']).toBe('cost');
        const resetAt = Number(answer.headers['x-ratelimit-reset']);
        expect(resetAt).toBeGreaterThan(Date.now() / 1000);
        expect(resetAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3_600);
      }
      expect([first, second].map((answer) => answer.headers['x-ratelimit-remaining'])).toEqual(['4995', '4990']);
      expect([first, second].map((answer) => answer.headers['x-ratelimit-used'])).toEqual(['5', '10']);
      // One window: the second answer resets when the first does (give or take the second a millisecond may tip).
      expect(Math.abs(Number(second.headers['x-ratelimit-reset']) - Number(first.headers['x-ratelimit-reset']))).toBeLessThanOrEqual(1);
    } finally {
      await setup.close();
    }
  });
});
