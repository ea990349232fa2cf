import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { request } from 'undici';
import { encodeGlobalId } from '../../src/connection/global-id';
import type { AuditEventModel } from '../../src/models/audit-event';
import type { InjectedFault } from '../../src/simulation/server';
import { startHarness, STACK_LINE, type Answer, type Harness } from './reliability-harness';

/**
 * Upstream faults seen through the whole gateway: one source misbehaves (simulator fault
 * controls), the other answers. Each case checks the client's answer (HTTP 200, the healthy
 * source's events, one typed error naming the failing source, nothing of the upstream in the
 * text), how many calls the failing upstream got, and that the gateway keeps serving.
 */

const PAGE = `{ auditEvents(first: 10) {
  nodes { id source { sourceId } }
  sourceStatuses { source { sourceId } status upstreamRequests }
  pageInfo { endCursor hasNextPage }
} }`;

interface PageData {
  auditEvents: {
    nodes: Array<{ id: string; source: { sourceId: string } }>;
    sourceStatuses: Array<{ source: { sourceId: string }; status: string; upstreamRequests: number }>;
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  } | null;
}

/** Text of the upstream that must never reach a client: its address, its bodies, errno names. */
function expectNothingOfTheUpstream(answer: Answer<unknown>, setup: Harness): void {
  for (const simulator of setup.simulators.values()) {
    const { host, port } = new URL(simulator.baseUrl);
    expect(answer.text).not.toContain(host);
    expect(answer.text).not.toContain(`:${port}`);
  }
  expect(answer.text).not.toMatch(STACK_LINE);
  expect(answer.text).not.toMatch(/ECONN|ENOTFOUND|EPIPE|ETIMEDOUT|UND_ERR|socket|Sign in|injected fault|<html/i);
}

describe('one source failing, one answering: the client gets a partial page and a typed error', () => {
  let setup: Harness;

  // A cap of 1 MiB: the oversized body is read up to it well within the 1 s per-call deadline,
  // however loaded the machine (at the 10 MiB default a busy CI host could time out first).
  beforeAll(async () => {
    setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 120, config: { maxResponseBytes: 1024 * 1024 } },
      { id: 'asana-main', vendor: 'asana', size: 60 },
    ]);
  });
  afterAll(async () => {
    await setup?.close();
  });

  const cases: Array<{ name: string; fault: InjectedFault; times: number; code: string; calls: number; httpStatus?: number }> = [
    { name: 'headers never sent', fault: { kind: 'no-headers' }, times: 1, code: 'UPSTREAM_TIMEOUT', calls: 1 },
    { name: 'a slow drip (1 byte every 100 ms)', fault: { kind: 'slow-drip', byteIntervalMs: 100 }, times: 1, code: 'UPSTREAM_TIMEOUT', calls: 1 },
    { name: '200 with invalid JSON', fault: { kind: 'invalid-json' }, times: 1, code: 'UPSTREAM_MALFORMED_RESPONSE', calls: 1 },
    { name: '200 with a text/html login page', fault: { kind: 'html' }, times: 1, code: 'UPSTREAM_MALFORMED_RESPONSE', calls: 1 },
    { name: 'a body cut short, every time', fault: { kind: 'truncated' }, times: 3, code: 'UPSTREAM_UNAVAILABLE', calls: 3 },
    { name: 'ECONNRESET, every time', fault: { kind: 'reset' }, times: 3, code: 'UPSTREAM_UNAVAILABLE', calls: 3 },
    { name: 'a 302 to the cloud metadata address', fault: { kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' }, times: 1, code: 'UPSTREAM_PROTOCOL_ERROR', calls: 1, httpStatus: 302 },
    { name: '401', fault: { kind: 'status', status: 401, json: { message: 'token revoked' } }, times: 1, code: 'UPSTREAM_AUTH_FAILED', calls: 1, httpStatus: 401 },
    { name: '403', fault: { kind: 'status', status: 403, json: { message: 'forbidden' } }, times: 1, code: 'UPSTREAM_AUTH_FAILED', calls: 1, httpStatus: 403 },
    { name: '404', fault: { kind: 'status', status: 404, json: { message: 'no such route' } }, times: 1, code: 'UPSTREAM_BAD_REQUEST', calls: 1, httpStatus: 404 },
    ...[500, 502, 503, 504].map((status) => ({
      name: `${status}, every time`,
      fault: { kind: 'status' as const, status, json: { message: 'injected fault' } },
      times: 3,
      code: status === 504 ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE',
      calls: 3,
      httpStatus: status,
    })),
    { name: '429 with Retry-After: 120', fault: { kind: 'status', status: 429, headers: { 'retry-after': '120' } }, times: 1, code: 'UPSTREAM_RATE_LIMITED', calls: 1, httpStatus: 429 },
  ];

  // Each case gets a fresh source state: a rate limit or an open breaker must not leak into the next.
  afterEach(async () => {
    await setup.close();
    setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 120, config: { maxResponseBytes: 1024 * 1024 } },
      { id: 'asana-main', vendor: 'asana', size: 60 },
    ]);
  });

  for (const { name, fault, times, code, calls, httpStatus } of cases) {
    it(`${name}: ${code} for that source after ${calls} call(s), the other source's events, nothing of the upstream`, async () => {
      const nirvana = setup.simulators.get('nirvana-main')!.control;
      await setup.idle();
      nirvana.resetStats();
      nirvana.inject(fault, times);
      const started = Date.now();
      const answer = await setup.query<PageData>(PAGE, undefined, { 'x-request-id': 'fault-case' });
      const elapsed = Date.now() - started;

      expect(answer.status).toBe(200);
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors![0]!.extensions).toEqual({ code, source: 'nirvana-main', requestId: 'fault-case', ...(httpStatus !== undefined ? { httpStatus } : {}), ...(code === 'UPSTREAM_RATE_LIMITED' ? { retryAfterSeconds: 120 } : {}) });
      expect(answer.errors![0]!.message).toMatch(/^The upstream of source 'nirvana-main' /);
      const connection = answer.data!.auditEvents!;
      expect(connection.nodes).toHaveLength(10);
      expect(connection.nodes.every((node) => node.source.sourceId === 'asana-main')).toBe(true);
      expect(connection.sourceStatuses.find((status) => status.source.sourceId === 'nirvana-main')?.status).toBe('FAILED');
      // The failed source is not moved past: the page says there is more (its events).
      expect(connection.pageInfo.hasNextPage).toBe(true);
      expectNothingOfTheUpstream(answer, setup);
      // Within the per-call deadline (1 s here), far inside the 10 s request deadline.
      expect(elapsed).toBeLessThan(3000);
      await setup.idle();
      expect(nirvana.stats.requests).toBe(calls);

      // The process stays up and the source serves again once the fault is gone (not for a rate limit: it is still closed).
      const health = await request(setup.gateway.url.replace('/graphql', '/healthz'));
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      if (code !== 'UPSTREAM_RATE_LIMITED') {
        const again = await setup.query<PageData>(PAGE);
        expect(again.errors).toBeUndefined();
        expect(again.data!.auditEvents!.nodes.some((node) => node.source.sourceId === 'nirvana-main')).toBe(true);
      }
    });
  }

  it('a body cut short once, or a reset once: retried, and the page is whole', async () => {
    for (const fault of [{ kind: 'truncated' }, { kind: 'reset' }] as const) {
      const nirvana = setup.simulators.get('nirvana-main')!.control;
      await setup.idle();
      nirvana.resetStats();
      nirvana.inject(fault, 1);
      const answer = await setup.query<PageData>(PAGE);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.auditEvents!.nodes.some((node) => node.source.sourceId === 'nirvana-main')).toBe(true);
      await setup.idle();
      expect(nirvana.stats.requests).toBe(2);
    }
  });

  it('a body larger than maxResponseBytes: UPSTREAM_RESPONSE_TOO_LARGE, the other source answers', async () => {
    const nirvana = setup.simulators.get('nirvana-main')!.control;
    await setup.idle();
    nirvana.inject({ kind: 'huge', bytes: 2 * 1024 * 1024 });
    const answer = await setup.query<PageData>(PAGE);
    expect(answer.status).toBe(200);
    expect(answer.errors?.map((error) => error.extensions?.['code'])).toEqual(['UPSTREAM_RESPONSE_TOO_LARGE']);
    expect(answer.data!.auditEvents!.nodes.every((node) => node.source.sourceId === 'asana-main')).toBe(true);
    expectNothingOfTheUpstream(answer, setup);
    // (The simulator never finishes writing a body the client dropped, so no idle() here.)
  });
});

describe('upstream faults that the other cases do not reach', () => {
  it('400 from an upstream that takes no second guess (Asana): UPSTREAM_BAD_REQUEST, no retry', async () => {
    const setup = await startHarness([{ id: 'asana-main', vendor: 'asana', size: 60 }]);
    try {
      const asana = setup.simulators.get('asana-main')!.control;
      asana.resetStats();
      asana.inject({ kind: 'status', status: 400, json: { errors: [{ message: 'bad param' }] } });
      const answer = await setup.query<PageData>(PAGE);
      expect(answer.status).toBe(200);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_BAD_REQUEST', source: 'asana-main', httpStatus: 400 });
      expect(answer.text).not.toContain('bad param');
      await setup.idle();
      expect(asana.stats.requests).toBe(1);
    } finally {
      await setup.close();
    }
  });

  describe('every source fails', () => {
    let setup: Harness;
    beforeEach(async () => {
      setup = await startHarness([
        { id: 'nirvana-main', vendor: 'nirvana', size: 60 },
        { id: 'asana-main', vendor: 'asana', size: 60 },
      ]);
      for (const simulator of setup.simulators.values()) simulator.control.inject({ kind: 'status', status: 503 }, 3);
    });
    afterEach(async () => {
      await setup.close();
    });
    const QUERY = `{ sources { sourceId } ${PAGE.slice(1, -1)} }`;

    it('HTTP 200, one error per source, each masked, data present with a null connection and its sibling fields', async () => {
      const answer = await setup.query<PageData & { sources: Array<{ sourceId: string }> }>(QUERY);
      expect(answer.status).toBe(200);
      expect((answer.errors ?? []).map((error) => [error.extensions?.['code'], error.extensions?.['source'], error.path]).sort()).toEqual([
        ['UPSTREAM_UNAVAILABLE', 'asana-main', ['auditEvents']],
        ['UPSTREAM_UNAVAILABLE', 'nirvana-main', ['auditEvents']],
      ]);
      expectNothingOfTheUpstream(answer, setup);
      expect(answer.data).not.toBeNull();
      expect(answer.data!.auditEvents).toBeNull();
      expect(answer.data!.sources.map((source) => source.sourceId)).toEqual(['nirvana-main', 'asana-main']);
    });
  });

  it('a connect that never completes (blackhole): UPSTREAM_TIMEOUT after the connect timeout, masked, the other source answers within the deadline', async () => {
    const blackhole = await startBlackhole();
    const setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 30, config: { baseUrl: `http://127.0.0.1:${blackhole.port}` } },
      { id: 'asana-main', vendor: 'asana', size: 30 },
    ]);
    try {
      // The listener's queue is full and nobody accepts: the kernel drops the gateway's SYN, as a
      // firewall that drops packets would, so only the connect timeout can end the wait.
      expect(await blackhole.connects()).toBe(false);
      const started = Date.now();
      const answer = await setup.query<PageData>(PAGE);
      const took = Date.now() - started;
      expect(answer.status).toBe(200);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', source: 'nirvana-main' });
      expect(answer.data!.auditEvents!.nodes.length).toBeGreaterThan(0);
      expect(answer.data!.auditEvents!.nodes.every((node) => node.source.sourceId === 'asana-main')).toBe(true);
      // Connect timeout 500 ms, call deadline 1 s (FAST_UPSTREAM): answered within the call's deadline, not hung.
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(5_000);
      expect(answer.text).not.toContain(String(blackhole.port));
      // The connect phase timed out (not the headers or the call's deadline), and the log says so.
      expect(setup.logLines.some((line) => line.includes('"source":"nirvana-main"') && line.includes('"errno":"UND_ERR_CONNECT_TIMEOUT"'))).toBe(true);
      expectNothingOfTheUpstream(answer, setup);
    } finally {
      await setup.close();
      blackhole.close();
    }
  });

  it('an unresolvable host (ENOTFOUND): UPSTREAM_UNREACHABLE, masked, the other source answers', async () => {
    const setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 30, config: { baseUrl: 'http://audit-gateway-test.invalid' } },
      { id: 'asana-main', vendor: 'asana', size: 30 },
    ]);
    try {
      const answer = await setup.query<PageData>(PAGE);
      expect(answer.status).toBe(200);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', source: 'nirvana-main' });
      expect(answer.data!.auditEvents!.nodes.length).toBeGreaterThan(0);
      expect(answer.text).not.toContain('audit-gateway-test.invalid');
      expectNothingOfTheUpstream(answer, setup);
    } finally {
      await setup.close();
    }
  });

  it('429 with an HTTP-date Retry-After two minutes ahead: no wait, UPSTREAM_RATE_LIMITED with retryAfterSeconds, no more calls while 50 clients ask', async () => {
    const setup = await startHarness([
      { id: 'nirvana-main', vendor: 'nirvana', size: 60 },
      { id: 'asana-main', vendor: 'asana', size: 60 },
    ]);
    try {
      const nirvana = setup.simulators.get('nirvana-main')!.control;
      nirvana.resetStats();
      nirvana.inject({ kind: 'status', status: 429, headers: { 'retry-after': new Date(Date.now() + 120_000).toUTCString() } });
      const started = Date.now();
      const first = await setup.query<PageData>(PAGE);
      expect(Date.now() - started).toBeLessThan(2000);
      const retryAfter = first.errors?.[0]?.extensions?.['retryAfterSeconds'];
      expect(first.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_RATE_LIMITED');
      expect(typeof retryAfter === 'number' && retryAfter >= 110 && retryAfter <= 121).toBe(true);

      const answers = await Promise.all(Array.from({ length: 50 }, () => setup.query<PageData>(PAGE)));
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', source: 'nirvana-main' });
        expect(answer.data!.auditEvents!.nodes.length).toBe(10);
      }
      await setup.idle();
      expect(nirvana.stats.requests).toBe(1);
    } finally {
      await setup.close();
    }
  });

  it('a source that fails inside one request is asked again by the next: errors are not cached across requests', async () => {
    const setup = await startHarness([{ id: 'nirvana-main', vendor: 'nirvana', size: 200 }]);
    try {
      const simulator = setup.simulators.get('nirvana-main')!;
      const idOf = (event: AuditEventModel) => encodeGlobalId({ type: 'AuditEvent', sourceId: event.sourceId, occurredAtMs: event.occurredAtMs, sourceEventId: event.sourceEventId });
      const ids = simulator.expectedEvents('nirvana-main').slice(50, 53).map(idOf);
      // The same id twice in one request, through nodes and node: one load, one failure.
      const query = `query ($ids: [ID!]!, $id: ID!) { nodes(ids: $ids) { id } again: node(id: $id) { id } }`;
      simulator.control.resetStats();
      simulator.control.inject({ kind: 'status', status: 503 }, 3);
      const failed = await setup.query<{ nodes: Array<{ id: string } | null>; again: { id: string } | null }>(query, { ids, id: ids[0] });
      expect(failed.status).toBe(200);
      expect(failed.data!.nodes).toEqual([null, null, null]);
      expect(failed.data!.again).toBeNull();
      expect(new Set((failed.errors ?? []).map((error) => error.extensions?.['code']))).toEqual(new Set(['UPSTREAM_UNAVAILABLE']));
      await setup.idle();
      expect(simulator.control.stats.requests).toBe(3);

      const recovered = await setup.query<{ nodes: Array<{ id: string } | null>; again: { id: string } | null }>(query, { ids, id: ids[0] });
      expect(recovered.errors).toBeUndefined();
      expect(recovered.data!.nodes.map((node) => node?.id)).toEqual(ids);
      expect(recovered.data!.again?.id).toBe(ids[0]);
      await setup.idle();
      expect(simulator.control.stats.requests).toBeGreaterThan(3);
    } finally {
      await setup.close();
    }
  });
});

/**
 * A loopback address whose TCP connects never complete: a listener in a stopped child process
 * with a backlog of 1, its accept queue filled. Linux then drops further SYNs (the client
 * retransmits and waits), which is what a blackholed upstream looks like from the gateway.
 */
async function startBlackhole(): Promise<{ port: number; connects: () => Promise<boolean>; close: () => void }> {
  const listener: ChildProcess = spawn(
    process.execPath,
    ['-e', "const s = require('net').createServer(); s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => console.log(s.address().port));"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    listener.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    listener.once('error', reject);
  });
  listener.kill('SIGSTOP');
  const held: net.Socket[] = [];
  /** Tries one connect for 300 ms: true when it completed. */
  const connects = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      held.push(socket);
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  // The queue of a backlog of 1 holds two connections; then connects hang.
  for (let filled = 0; filled < 8 && (await connects()); filled++);
  return {
    port,
    connects,
    close: () => {
      for (const socket of held) socket.destroy();
      listener.kill('SIGKILL');
    },
  };
}
