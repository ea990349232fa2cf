import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { AuthConfig } from '../../src/auth';
import { ConfigError, parseConfig } from '../../src/config';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const APP = 'https://app.example.com';
const KEY = 'cors-test-key-0123456789';

function preflight(url: string, origin: string) {
  return request(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-request-id' },
  });
}

const corsHeaders = (headers: Record<string, unknown>) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('CORS', () => {
  let setup: TestGateway;
  let plain: TestGateway;

  beforeAll(async () => {
    const auth: AuthConfig = { mode: 'required', apiKeys: [{ id: 'web', sha256: createHash('sha256').update(KEY).digest('hex'), sources: '*' }], jwt: null };
    setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }], { auth, cors: { origins: [APP], allowCredentials: true, maxAge: 300 } });
    plain = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 10 }]);
  }, 60_000);

  afterAll(async () => {
    await setup?.close();
    await plain?.close();
  });

  it('answers a preflight from an allowed origin with 204, before authentication and the CSRF check', async () => {
    const response = await preflight(setup.gateway.url, APP);
    await response.body.dump();
    expect(response.statusCode).toBe(204);
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '300',
      vary: 'Origin',
    });
    expect(String(response.headers['access-control-allow-methods']).split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(String(response.headers['access-control-allow-headers']).split(', ')).toEqual(['authorization', 'content-type', 'x-request-id', 'apollo-require-preflight']);
  }, 30_000);

  it('gives a disallowed origin no CORS header', async () => {
    const refused = await preflight(setup.gateway.url, 'https://evil.example.net');
    await refused.body.dump();
    expect(refused.statusCode).toBe(403);
    expect(corsHeaders(refused.headers)).toEqual([]);

    const post = await request(setup.gateway.url, {
      method: 'POST',
      headers: { origin: 'https://evil.example.net', 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query: '{ sources { sourceId } }' }),
    });
    await post.body.dump();
    expect(corsHeaders(post.headers)).toEqual([]);
  }, 30_000);

  it('marks the answers to an allowed origin, and exposes the request id', async () => {
    const post = await request(setup.gateway.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query: '{ sources { sourceId } }' }),
    });
    await post.body.dump();
    expect(post.statusCode).toBe(200);
    expect(post.headers['access-control-allow-origin']).toBe(APP);
    expect(String(post.headers['access-control-expose-headers'])).toContain('x-request-id');
    // A refusal is readable too, so that the page can tell the user why.
    const refused = await request(setup.gateway.url, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ sources { sourceId } }' }) });
    await refused.body.dump();
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
  }, 30_000);

  it('keeps the CSRF prevention for requests that are not preflights, whatever their origin', async () => {
    const simple = await request(setup.gateway.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'text/plain', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query: '{ sources { sourceId } }' }),
    });
    const text = await simple.body.text();
    expect(simple.statusCode).toBe(400);
    expect(text).toMatch(/CSRF|preflight/i);
    const get = await request(`${setup.gateway.url}?query=${encodeURIComponent('{ sources { sourceId } }')}`, { headers: { origin: APP, authorization: `Bearer ${KEY}` } });
    await get.body.dump();
    expect(get.statusCode).toBe(400);
  }, 30_000);

  it('changes nothing without server.cors: a preflight is refused as before', async () => {
    const response = await preflight(plain.gateway.url, APP);
    await response.body.dump();
    expect(response.statusCode).toBe(400);
    expect(corsHeaders(response.headers)).toEqual([]);
  }, 30_000);
});

describe('server.cors and server.metrics in the config', () => {
  const parse = (server: Record<string, unknown>) =>
    parseConfig({ server: { cursorSecret: 'x'.repeat(40), ...server }, sources: [{ id: 'n1', vendor: 'nirvana', baseUrl: 'http://127.0.0.1:9', allowPrivateNetwork: true, apiKey: 'k' }] }, {});

  it('has defaults: metrics on the API port, no CORS', () => {
    const { server } = parse({});
    expect(server.metrics).toEqual({ enabled: true, port: null, host: null });
    expect(server.cors).toBeNull();
    expect(parse({ cors: { origins: ['https://App.Example.com'] } }).server.cors).toEqual({ origins: ['https://app.example.com'], allowCredentials: false, maxAge: 600 });
    expect(parse({ metrics: { port: 9464, host: '0.0.0.0' } }).server.metrics).toEqual({ enabled: true, port: 9464, host: '0.0.0.0' });
  });

  it.each([
    [{ cors: { origins: ['https://app.example.com/path'] } }, /server\.cors\.origins\[0\]: an origin such as/],
    [{ cors: { origins: [] } }, /server\.cors\.origins/],
    [{ cors: { origins: ['*'], allowCredentials: true } }, /server\.cors\.origins: '\*' cannot be combined with allowCredentials/],
    [{ cors: { origins: ['https://a.example'], methods: ['GET'] } }, /server\.cors: unknown key\(s\) 'methods'/],
    [{ metrics: { port: 4000 } }, /server\.metrics\.port: must differ from server\.port/],
    [{ metrics: { host: '0.0.0.0' } }, /server\.metrics\.host: host needs a port/],
    [{ metrics: { enabled: 'yes' } }, /server\.metrics\.enabled/],
  ])('refuses %j', (server, message) => {
    expect(() => parse(server)).toThrow(ConfigError);
    expect(() => parse(server)).toThrow(message);
  });
});
