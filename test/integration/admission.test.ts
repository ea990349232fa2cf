import { request } from 'undici';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway } from '../helpers/gateway';

const QUERY = JSON.stringify({ query: '{ auditEvents(first: 5) { nodes { id } } }' });

async function post(url: string): Promise<{ status: number; retryAfter: string | undefined; body: { errors?: Array<{ extensions?: Record<string, unknown> }> } }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY });
  const retryAfter = response.headers['retry-after'];
  return { status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, body: (await response.body.json()) as never };
}

describe('admission control', () => {
  it('runs what fits, queues a bounded number, and sheds the excess at once with 503 and Retry-After', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 1, maxQueued: 1, perClientPerMinute: null } });
    try {
      setup.simulators.get('nirvana-main')!.control.knobs.latencyMs = 300;
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 6 }, () => post(setup.gateway.url)));
      const shed = answers.filter((answer) => answer.status === 503);
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2);
      expect(shed).toHaveLength(4);
      for (const answer of shed) {
        expect(answer.retryAfter).toBe('1');
        expect(answer.body.errors?.[0]?.extensions?.['code']).toBe('OVERLOADED');
      }
      // The gateway still answers once the load has passed.
      expect((await post(setup.gateway.url)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await setup.close();
    }
  });

  it('limits each client to its requests a minute with 429 and Retry-After', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: 3 } });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await post(setup.gateway.url));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
      const limited = answers[3]!;
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
      expect(limited.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      // Health checks are never limited.
      expect((await request(setup.gateway.url.replace('/graphql', '/healthz'))).statusCode).toBe(200);
    } finally {
      await setup.close();
    }
  });
});
