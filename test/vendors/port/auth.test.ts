import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, UpstreamError } from '../../../src/errors';
import type { AuditDataSource, ListEventsRequest } from '../../../src/sources/data-source';
import type { RunningSimulator } from '../../../src/simulation/vendor-simulator';
import { portModule } from '../../../src/vendors/port';
import { startPortSimulator } from '../../../src/vendors/port/simulator';
import { NO_FILTER } from '../../contract/datasource-contract';
import { dataSourceFor } from '../../helpers/datasource';

const TOKEN_ROUTE = 'POST /v1/auth/access_token';
const AUDIT_ROUTE = 'GET /v1/audit-log';
const request = (): ListEventsRequest => ({ direction: 'DESC', query: NO_FILTER, resume: null, limit: 10, signal: AbortSignal.timeout(10_000) });

describe('Port token exchange', () => {
  let simulator: RunningSimulator;
  const open: AuditDataSource[] = [];
  const fresh = (overrides: Parameters<typeof dataSourceFor>[2] = {}) => {
    const dataSource = dataSourceFor(portModule, simulator, overrides);
    open.push(dataSource);
    return dataSource;
  };

  beforeAll(async () => {
    simulator = await startPortSimulator({ size: 300, seed: 7, endMs: Date.UTC(2026, 9, 1), tokenLifetimeSeconds: 2 });
  });
  beforeEach(() => simulator.control.resetStats());
  afterAll(async () => {
    await Promise.all(open.map((dataSource) => dataSource.close()));
    await simulator.stop();
  });

  it('exchanges once for many concurrent calls and counts it in the call that started it', async () => {
    const dataSource = fresh();
    const results = await Promise.all(Array.from({ length: 20 }, () => dataSource.listEvents(request())));
    expect(simulator.control.stats.byRoute.get(TOKEN_ROUTE)).toBe(1);
    expect(simulator.control.stats.byRoute.get(AUDIT_ROUTE)).toBe(20);
    expect(results.map((result) => result.upstreamRequests).sort()).toEqual([...Array(19).fill(1), 2]);
  });

  it('reuses the cached token for later calls', async () => {
    const dataSource = fresh();
    await dataSource.listEvents(request());
    const later = await dataSource.listEvents(request());
    await dataSource.getEvent({ sourceEventId: 'nope', occurredAtMs: 0 }, AbortSignal.timeout(5_000));
    expect(later.upstreamRequests).toBe(1);
    expect(simulator.control.stats.byRoute.get(TOKEN_ROUTE)).toBe(1);
  });

  it('exchanges again shortly before the token expires', async () => {
    const dataSource = fresh();
    await dataSource.listEvents(request());
    // Lifetime 2 s: the margin (60 s, at most half the lifetime) makes it stale after 1 s.
    await sleep(1_100);
    const after = await dataSource.listEvents(request());
    expect(after.upstreamRequests).toBe(2);
    expect(simulator.control.stats.byRoute.get(TOKEN_ROUTE)).toBe(2);
  });

  it('on a 401 from the audit route exchanges again once and retries', async () => {
    const dataSource = fresh();
    await dataSource.listEvents(request());
    simulator.control.inject({ kind: 'status', status: 401, json: { ok: false, error: 'unauthorized', message: 'token revoked' } });
    const result = await dataSource.listEvents(request());
    expect(result.events.length).toBeGreaterThan(0);
    expect(result.upstreamRequests).toBe(3);
    expect(simulator.control.stats.byRoute.get(TOKEN_ROUTE)).toBe(2);
  });

  it('gives UPSTREAM_AUTH_FAILED, without looping, when 401s persist', async () => {
    const dataSource = fresh();
    await dataSource.listEvents(request());
    const exchange = await fetch(`${simulator.baseUrl}/v1/auth/access_token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(simulator.credentials) });
    const tokenBody: unknown = await exchange.json();
    simulator.control.resetStats();
    // The audit route refuses, the exchange succeeds, the audit route refuses the new token too.
    simulator.control.inject({ kind: 'status', status: 401, json: { ok: false, error: 'unauthorized' } });
    simulator.control.inject({ kind: 'status', status: 200, json: tokenBody });
    simulator.control.inject({ kind: 'status', status: 401, json: { ok: false, error: 'unauthorized' } });
    const error = await dataSource.listEvents(request()).catch((e: unknown) => e);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamAuthFailed);
    expect(simulator.control.stats.requests).toBe(3);
  });

  it('reports a wrong secret from the exchange, never calling the audit route', async () => {
    const dataSource = fresh({ id: 'port-wrong', credentials: { clientSecret: 'CANARY-not-the-secret' } });
    const error = await dataSource.listEvents(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe(ErrorCode.UpstreamAuthFailed);
    expect((error as UpstreamError).extensions['source']).toBe('port-wrong');
    expect(JSON.stringify({ m: (error as Error).message, e: (error as UpstreamError).extensions })).not.toContain('CANARY');
    expect(simulator.control.stats.byRoute.get(AUDIT_ROUTE) ?? 0).toBe(0);
  });

  it('retries a 503 on the exchange (asking again is safe)', async () => {
    const dataSource = fresh();
    simulator.control.inject({ kind: 'status', status: 503 });
    const result = await dataSource.listEvents(request());
    expect(result.upstreamRequests).toBe(3);
    expect(result.events.length).toBeGreaterThan(0);
  });
});
