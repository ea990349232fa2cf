import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { defaultServerConfig, sourceConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createGateway, type Gateway } from '../../src/server';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';
import { startVendorSimulator } from '../../src/vendors/simulators';

/**
 * A source's circuit breaker seen through the gateway: a source whose upstream keeps failing opens
 * its circuit, and the pages that follow show it OPEN in `sourceStatuses` (and in `Source.health`)
 * without asking that upstream, while the other source answers as usual.
 */

const PAGE = `{
  auditEvents(first: 5) {
    edges { node { id } }
    sourceStatuses { source { sourceId } status errorCode upstreamRequests circuit }
  }
  sources { sourceId health { status lastErrorCode circuit } }
}`;

interface Status {
  source: { sourceId: string };
  status: string;
  errorCode: string | null;
  upstreamRequests: number;
  circuit: string;
}

interface PageData {
  auditEvents: { edges: Array<{ node: { id: string } }>; sourceStatuses: Status[] };
  sources: Array<{ sourceId: string; health: { status: string; lastErrorCode: string | null; circuit: string } }>;
}

describe('circuit state through the gateway', () => {
  const failingId = 'nirvana-failing';
  const healthyId = 'nirvana-healthy';
  let gateway: Gateway;
  let failing: RunningSimulator;
  let healthy: RunningSimulator;

  beforeAll(async () => {
    const endMs = Date.UTC(2026, 10, 1);
    failing = await startVendorSimulator('nirvana', { size: 50, seed: 3, endMs });
    healthy = await startVendorSimulator('nirvana', { size: 50, seed: 4, endMs });
    const source = (id: string, simulator: RunningSimulator) =>
      sourceConfig({
        id,
        vendor: 'nirvana',
        baseUrl: simulator.baseUrl,
        allowPrivateNetwork: true,
        retry: { maxRetries: 1, minDelayMs: 1, maxDelayMs: 5 },
        // A pause far longer than the test: the circuit stays open once it opens.
        circuitBreaker: { threshold: 2, halfOpenAfterMs: 600_000 },
        ...simulator.credentials,
      });
    gateway = await createGateway(
      { server: defaultServerConfig({ cursorSecret: randomBytes(32).toString('hex') }), sources: [source(failingId, failing), source(healthyId, healthy)], demo: false },
      { logger: createLogger({ level: 'silent' }), port: 0 },
    );
  });
  afterAll(async () => {
    await gateway?.stop(1000);
    await Promise.all([failing?.stop(), healthy?.stop()]);
  });

  async function page(): Promise<PageData> {
    const response = await request(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PAGE }) });
    const body = (await response.body.json()) as { data: PageData };
    return body.data;
  }

  const statusOf = (data: PageData, sourceId: string) => data.auditEvents.sourceStatuses.find((status) => status.source.sourceId === sourceId)!;

  it('shows the failing source OPEN, failing at once with no upstream request; the other one CLOSED and read', async () => {
    failing.control.knobs.errorRate = 1;
    let data = await page();
    expect(statusOf(data, failingId)).toMatchObject({ status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', circuit: 'CLOSED' });
    for (let guard = 0; guard < 5 && statusOf(data, failingId).circuit !== 'OPEN'; guard++) data = await page();
    expect(statusOf(data, failingId).circuit).toBe('OPEN');

    // The upstream has recovered, but the circuit is open: the gateway does not ask it.
    failing.control.knobs.errorRate = 0;
    failing.control.resetStats();
    healthy.control.resetStats();
    data = await page();
    expect(statusOf(data, failingId)).toEqual({ source: { sourceId: failingId }, status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', upstreamRequests: 0, circuit: 'OPEN' });
    expect(failing.control.stats.requests).toBe(0);
    expect(statusOf(data, healthyId)).toMatchObject({ status: 'OK', errorCode: null, circuit: 'CLOSED' });
    expect(healthy.control.stats.requests).toBeGreaterThan(0);
    expect(data.auditEvents.edges).toHaveLength(5);
    expect(data.sources).toEqual([
      { sourceId: failingId, health: { status: 'DOWN', lastErrorCode: 'UPSTREAM_UNAVAILABLE', circuit: 'OPEN' } },
      { sourceId: healthyId, health: { status: 'UP', lastErrorCode: null, circuit: 'CLOSED' } },
    ]);
  });
});
