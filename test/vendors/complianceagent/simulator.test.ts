import { startComplianceAgentSimulator, type RunningComplianceAgentSimulator } from '../../../src/vendors/complianceagent/simulator';

/** Raw HTTP against the simulator: the wire shapes the datasource relies on. */
describe('ComplianceAgent simulator', () => {
  let simulator: RunningComplianceAgentSimulator;
  const get = (path: string, key: string | null = simulator.credentials['apiKey']!) =>
    fetch(`${simulator.baseUrl}/api/v1/audit${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  beforeAll(async () => {
    simulator = await startComplianceAgentSimulator({ size: 300, seed: 4, endMs: Date.UTC(2026, 0, 15), rateLimit: { limit: 1000, windowMs: 60_000 } });
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  it('lists newest first in the documented envelope, 20 a page by default, with the chain fields', async () => {
    const response = await get('/logs');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { success: boolean; data: Record<string, unknown>[]; pagination: unknown };
    expect(body.success).toBe(true);
    expect(body.pagination).toEqual({ page: 1, limit: 20, total: 300 });
    expect(body.data).toHaveLength(20);
    const times = body.data.map((entry) => Date.parse(entry['timestamp'] as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(body.data[0]).toEqual(expect.objectContaining({ id: expect.stringMatching(/^log_/), hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), previous_hash: expect.stringMatching(/^sha256:/) }));
    expect(response.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
  });

  it('treats from as inclusive and to as exclusive', async () => {
    const t = new Date(simulator.dataset.timeOf(150)).toISOString();
    const lo = simulator.dataset.lowerBound(Date.parse(t));
    const upTo = (await (await get(`/logs?to=${t}&limit=1`)).json()) as { pagination: { total: number } };
    const from = (await (await get(`/logs?from=${t}&limit=1`)).json()) as { pagination: { total: number } };
    expect(upTo.pagination.total).toBe(lo);
    expect(from.pagination.total).toBe(300 - lo);
  });

  it('filters by actor id, email or type', async () => {
    const a = simulator.data.attributes(10);
    const byType = (await (await get(`/logs?actor=${a.actorType}&limit=100`)).json()) as { data: { actor: { type: string } }[] };
    expect(byType.data.every((entry) => entry.actor.type === a.actorType)).toBe(true);
    const byId = (await (await get(`/logs?actor=${a.actorId}&limit=100`)).json()) as { data: { actor: { id: string } }[] };
    expect(byId.data.length).toBeGreaterThan(0);
    expect(byId.data.every((entry) => entry.actor.id === a.actorId)).toBe(true);
  });

  it('serves the single-entry form with metadata, and the error envelope for an unknown id', async () => {
    const id = simulator.data.entry(42)!.id;
    const one = (await (await get(`/logs/${id}`)).json()) as { data: Record<string, unknown> };
    expect(one.data).toEqual(expect.objectContaining({ id, metadata: expect.objectContaining({ ip_address: expect.any(String), request_id: expect.any(String) }) }));
    expect(one.data).not.toHaveProperty('ip_address');
    const missing = await get('/logs/log_0000000000000000');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      success: false,
      error: { code: 'NOT_FOUND', message: expect.any(String), details: expect.any(Object) },
      meta: { request_id: expect.stringMatching(/^req_/), timestamp: expect.any(String) },
    });
  });

  it('refuses a missing key with 401 and bad paging with 400', async () => {
    const unauthorised = await get('/logs', null);
    expect(unauthorised.status).toBe(401);
    expect(((await unauthorised.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    for (const query of ['limit=101', 'limit=0', 'page=0', 'from=yesterday']) {
      const response = await get(`/logs?${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
    }
  });

  it('answers 429 with Retry-After and the rate-limit headers once the quota is spent', async () => {
    const limited = await startComplianceAgentSimulator({ size: 10, seed: 1, rateLimit: { limit: 1, windowMs: 30_000 } });
    try {
      const headers = { authorization: `Bearer ${limited.credentials['apiKey']!}` };
      expect((await fetch(`${limited.baseUrl}/api/v1/audit/retention`, { headers })).status).toBe(200);
      const refused = await fetch(`${limited.baseUrl}/api/v1/audit/retention`, { headers });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(25);
      expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    } finally {
      await limited.stop();
    }
  });
});
