import { createHash, randomBytes } from 'node:crypto';
import type { AuthConfig } from '../../src/auth';
import { parseConfig } from '../../src/config';
import { configErrorOf } from '../helpers/config-error';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const KEYS = { a: `a-${randomBytes(16).toString('hex')}`, b: `b-${randomBytes(16).toString('hex')}` };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const AUTH: AuthConfig = {
  mode: 'required',
  apiKeys: [
    { id: 'caller-a', sha256: sha256(KEYS.a), sources: '*' },
    { id: 'caller-b', sha256: sha256(KEYS.b), sources: '*' },
  ],
  jwt: null,
};
const as = (caller: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[caller]}` });

/** Costs `first` points: one connection of `first` nodes. */
const PAGE = 'query ($first: Int) { auditEvents(first: $first) { nodes { id } } }';
/** 100 + 100 × 5 = 600 points. */
const NESTED = '{ auditEvents(first: 100) { nodes { actor { node { events(first: 5) { nodes { id } } } } } } }';

type Headers = Record<string, unknown>;
const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};
const numeric = (headers: Headers, name: string): number => Number(header(headers, name));
const rateLimitHeaderNames = (headers: Headers) => Object.keys(headers).filter((name) => name.startsWith('x-ratelimit-'));

describe('per-caller cost budget (server.admission.costPerHour)', () => {
  let setup: TestGateway;
  const upstream = () => setup.simulators.get('nirvana-main')!.control.stats.requests;

  beforeAll(async () => {
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], {
      auth: AUTH,
      maxCost: 100,
      admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: null, costPerHour: 25 },
    });
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('refuses an operation its caller has too little budget left for with 429 RATE_LIMITED, reason COST_BUDGET and Retry-After, without an upstream call; another caller is unaffected', async () => {
    const first = await setup.query(PAGE, { first: 10 }, as('a'));
    expect(first.status).toBe(200);
    expect(numeric(first.headers, 'x-ratelimit-remaining')).toBe(15);
    expect((await setup.query(PAGE, { first: 10 }, as('a'))).status).toBe(200);

    const before = upstream();
    const refused = await setup.query(PAGE, { first: 10 }, as('a'));
    expect(refused.status).toBe(429);
    const extensions = refused.errors?.[0]?.extensions ?? {};
    expect(extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'COST_BUDGET', cost: 10, remaining: 5, limit: 25 });
    expect(refused.data).toBeUndefined();
    const retryAfter = Number(header(refused.headers, 'retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    expect(extensions['retryAfterSeconds']).toBe(retryAfter);
    expect(numeric(refused.headers, 'x-ratelimit-remaining')).toBe(5);
    expect(upstream()).toBe(before);

    // The refused operation spent nothing: what was left still buys an operation that fits.
    const fits = await setup.query(PAGE, { first: 5 }, as('a'));
    expect(fits.status).toBe(200);
    expect(numeric(fits.headers, 'x-ratelimit-remaining')).toBe(0);
    expect(upstream()).toBeGreaterThan(before);

    const other = await setup.query(PAGE, { first: 10 }, as('b'));
    expect(other.status).toBe(200);
    expect(other.errors).toBeUndefined();
    expect(numeric(other.headers, 'x-ratelimit-remaining')).toBe(15);
  });

  it('spends nothing for an operation refused by COST_LIMIT', async () => {
    const refused = await setup.query(NESTED, undefined, as('b'));
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT', cost: 600 });
    // Caller b spent 10 in the test before, and nothing since.
    expect(numeric(refused.headers, 'x-ratelimit-remaining')).toBe(15);
    const next = await setup.query(PAGE, { first: 1 }, as('b'));
    expect(next.status).toBe(200);
    expect(numeric(next.headers, 'x-ratelimit-remaining')).toBe(14);
  });
});

describe('x-ratelimit-* headers', () => {
  const PAGE_OF_3 = '{ auditEvents(first: 3) { nodes { id } } }';

  it('sends x-ratelimit-* headers of the cost budget when both limits are on, while the per-minute limit still answers 429 with Retry-After', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: 2, costPerHour: 1_000 } });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await setup.query(PAGE_OF_3));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
      for (const answer of answers) {
        expect(header(answer.headers, 'x-ratelimit-resource')).toBe('cost');
        expect(numeric(answer.headers, 'x-ratelimit-limit')).toBe(1_000);
      }
      expect(answers.map((answer) => numeric(answer.headers, 'x-ratelimit-remaining'))).toEqual([997, 994, 994]);
      expect(answers.map((answer) => numeric(answer.headers, 'x-ratelimit-used'))).toEqual([3, 6, 6]);
      const limited = answers[2]!;
      expect(limited.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      expect(limited.errors?.[0]?.extensions?.['reason']).toBeUndefined();
      expect(Number(header(limited.headers, 'retry-after'))).toBeLessThanOrEqual(60);
    } finally {
      await setup.close();
    }
  });

  it('sends x-ratelimit-* headers counting requests when only the per-minute limit is on, and none when neither limit is', async () => {
    const counted = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: 10, costPerHour: null } });
    try {
      const answers = [await counted.query(PAGE_OF_3), await counted.query(PAGE_OF_3)];
      for (const answer of answers) {
        expect(header(answer.headers, 'x-ratelimit-resource')).toBe('requests');
        expect(numeric(answer.headers, 'x-ratelimit-limit')).toBe(10);
        const resetAt = numeric(answer.headers, 'x-ratelimit-reset');
        expect(resetAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
        expect(resetAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
      }
      expect(answers.map((answer) => numeric(answer.headers, 'x-ratelimit-remaining'))).toEqual([9, 8]);
      expect(answers.map((answer) => numeric(answer.headers, 'x-ratelimit-used'))).toEqual([1, 2]);
    } finally {
      await counted.close();
    }
    const unlimited = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }], { admission: { maxInFlight: 8, maxQueued: 8, perClientPerMinute: null, costPerHour: null } });
    try {
      const answer = await unlimited.query(PAGE_OF_3);
      expect(answer.status).toBe(200);
      expect(rateLimitHeaderNames(answer.headers)).toEqual([]);
    } finally {
      await unlimited.close();
    }
  });
});

describe('server.admission.costPerHour in the config', () => {
  const env = { NIRVANA_API_KEY: 'key' };
  const document = (admission: Record<string, unknown> | undefined, server: Record<string, unknown> = {}) => ({
    server: { cursorSecret: 's'.repeat(40), ...(admission ? { admission } : {}), ...server },
    sources: [{ id: 'nirvana-main', vendor: 'nirvana', baseUrl: 'https://api.nirvanalabs.io', apiKey: '${NIRVANA_API_KEY}' }],
  });
  const errorOf = configErrorOf;

  it('takes a positive integer or null, none by default, and refuses 0, negatives, fractions and less than maxCost', () => {
    expect(parseConfig(document(undefined), env).server.admission.costPerHour).toBeNull();
    expect(parseConfig(document(undefined), env).server.admission.perClientPerMinute).toBeNull();
    expect(parseConfig(document({ perClientPerMinute: 20 }), env).server.admission.costPerHour).toBeNull();
    expect(parseConfig(document({ costPerHour: 50_000 }), env).server.admission.costPerHour).toBe(50_000);
    expect(parseConfig(document({ costPerHour: null }), env).server.admission.costPerHour).toBeNull();
    for (const bad of [0, -1, -50_000, 1.5, '1000']) {
      expect(errorOf(() => parseConfig(document({ costPerHour: bad }), env))).toMatch(/^server\.admission\.costPerHour: /);
    }
    expect(errorOf(() => parseConfig(document({ costPerHour: 5_000 }), env))).toBe('server.admission.costPerHour: must be at least server.maxCost (10000), or null for no budget');
    expect(parseConfig(document({ costPerHour: 5_000 }, { maxCost: 5_000 }), env).server.admission.costPerHour).toBe(5_000);
  });
});
