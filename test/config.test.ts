import path from 'node:path';
import { checkExposure, loadConfigFile, parseConfig, readRuntimeSettings } from '../src/config';
import { configErrorOf } from './helpers/config-error';

const SECRET = 's'.repeat(40);

function config(source: Record<string, unknown>, server: Record<string, unknown> = { cursorSecret: SECRET }) {
  return { server, sources: [{ id: 'nirvana-main', vendor: 'nirvana', baseUrl: 'https://api.nirvanalabs.io', apiKey: '${NIRVANA_API_KEY}', ...source }] };
}

const errorOf = configErrorOf;

describe('parseConfig', () => {
  const env = { NIRVANA_API_KEY: 'CANARY-secret-value' };

  it('interpolates ${ENV} and fills defaults', () => {
    const parsed = parseConfig(config({}), env);
    expect(parsed.sources[0]).toMatchObject({ id: 'nirvana-main', vendor: 'nirvana', apiKey: 'CANARY-secret-value', timeouts: { connectMs: 2000, requestMs: 8000 }, maxConnections: 16 });
    expect(parsed.server).toMatchObject({ port: 4000, requestTimeoutMs: 10_000, cursorTtlSeconds: 86_400 });
  });

  it('takes a settle window in milliseconds, 0 by default, never negative', () => {
    expect(parseConfig(config({}), env).server.settleWindowMs).toBe(0);
    expect(parseConfig(config({}, { cursorSecret: SECRET, settleWindowMs: 300_000 }), env).server.settleWindowMs).toBe(300_000);
    expect(errorOf(() => parseConfig(config({}, { cursorSecret: SECRET, settleWindowMs: -1 }), env))).toMatch(/^server\.settleWindowMs: /);
  });

  it('turns introspection and GraphiQL off under NODE_ENV=production unless the config turns them on', () => {
    const production = { ...env, NODE_ENV: 'production' };
    expect(parseConfig(config({}), production).server).toMatchObject({ introspection: false, graphiql: false });
    expect(parseConfig(config({}, { cursorSecret: SECRET, introspection: true, graphiql: true }), production).server).toMatchObject({ introspection: true, graphiql: true });
    expect(parseConfig(config({}), { ...env, NODE_ENV: 'development' }).server).toMatchObject({ introspection: true, graphiql: true });
    expect(parseConfig(config({}, { cursorSecret: SECRET, introspection: false }), env).server.introspection).toBe(false);
  });

  it('gives every retired cursor secret an end: its own, or one cursor lifetime after start-up', () => {
    const now = Date.UTC(2026, 11, 1);
    const parsed = parseConfig(
      config({}, { cursorSecret: SECRET, cursorTtlSeconds: 3600, previousCursorSecrets: ['o'.repeat(32), { secret: 'p'.repeat(32), until: '2026-12-24T00:00:00Z' }] }),
      env,
      now,
    );
    expect(parsed.server.previousCursorSecrets).toEqual([
      { secret: 'o'.repeat(32), untilMs: now + 3_600_000 },
      { secret: 'p'.repeat(32), untilMs: Date.UTC(2026, 11, 24) },
    ]);
    expect(errorOf(() => parseConfig(config({}, { cursorSecret: SECRET, previousCursorSecrets: [{ secret: 'p'.repeat(32), until: 'christmas' }] }), env))).toMatch(/^server\.previousCursorSecrets/);
  });

  it('keeps $${ as a literal ${', () => {
    expect(parseConfig(config({ apiKey: 'a$${b}' }), env).sources[0]!['apiKey']).toBe('a${b}');
  });

  it('names a missing or empty environment variable, never a value', () => {
    expect(errorOf(() => parseConfig(config({}), {}))).toBe('sources[0].apiKey: environment variable NIRVANA_API_KEY is not set or is empty');
    expect(errorOf(() => parseConfig(config({}), { NIRVANA_API_KEY: '' }))).toContain('NIRVANA_API_KEY');
  });

  it('requires an https host on the vendor allowlist unless private networks are allowed', () => {
    for (const baseUrl of ['http://api.nirvanalabs.io', 'https://10.0.0.5', 'https://localhost', 'https://169.254.169.254', 'https://evil.example.com']) {
      expect(errorOf(() => parseConfig(config({ baseUrl }), env))).toMatch(/^sources\[0\]\.baseUrl: https host on the vendor allowlist .* \(or allowPrivateNetwork: true\)$/);
    }
    expect(parseConfig(config({ baseUrl: 'http://127.0.0.1:9999', allowPrivateNetwork: true }), env).sources[0]!.baseUrl).toBe('http://127.0.0.1:9999');
  });

  it('refuses unknown keys, duplicate ids, bad timeouts and unknown vendors, naming the key path', () => {
    expect(errorOf(() => parseConfig(config({ apiKye: 'x' }), env))).toContain("sources[0]: unknown key(s) 'apiKye'");
    expect(errorOf(() => parseConfig(config({ timeouts: { connectMs: 0 } }), env))).toMatch(/^sources\[0\]\.timeouts\.connectMs:/);
    expect(errorOf(() => parseConfig(config({ timeouts: { requestMs: 20_000 } }), env))).toContain('must be shorter than server.requestTimeoutMs');
    expect(errorOf(() => parseConfig(config({ vendor: 'nope' }), env))).toMatch(/^sources\[0\]\.vendor:/);
    const doubled = { server: { cursorSecret: SECRET }, sources: [config({}).sources[0], config({}).sources[0]] };
    expect(errorOf(() => parseConfig(doubled, env))).toBe("sources[1].id: duplicate source id 'nirvana-main'");
  });

  it('requires a cursor secret of at least 32 characters', () => {
    expect(errorOf(() => parseConfig(config({}, {}), env))).toMatch(/^server\.cursorSecret: required/);
    expect(errorOf(() => parseConfig(config({}, { cursorSecret: 'short' }), env))).toMatch(/^server\.cursorSecret:/);
  });

  it('never echoes a secret in an error', () => {
    const message = errorOf(() => parseConfig(config({ apiKey: 12345 }), env));
    expect(message).not.toContain('12345');
  });
});

describe('server.auth', () => {
  const env = { NIRVANA_API_KEY: 'k' };
  const digest = 'ab'.repeat(32);
  const withAuth = (auth: unknown) => config({}, { cursorSecret: SECRET, auth });

  it('reads API keys with their sources and a JWT issuer, never holding a key', () => {
    const parsed = parseConfig(withAuth({ apiKeys: [{ id: 'ops', sha256: digest.toUpperCase(), sources: '*' }, { id: 'nv', sha256: digest, sources: ['nirvana-main'] }] }), env);
    expect(parsed.server.auth).toEqual({
      mode: 'required',
      apiKeys: [
        { id: 'ops', sha256: digest, sources: '*' },
        { id: 'nv', sha256: digest, sources: ['nirvana-main'] },
      ],
      jwt: null,
    });
  });

  it('refuses a key that is not a SHA-256, an unknown source, a duplicate id, an unreadable public key, and auth with no way in', () => {
    expect(errorOf(() => parseConfig(withAuth({ apiKeys: [{ id: 'ops', sha256: 'my-plain-key', sources: '*' }] }), env))).toMatch(/server\.auth.*sha256.*never the key itself/s);
    expect(errorOf(() => parseConfig(withAuth({ apiKeys: [{ id: 'ops', sha256: digest, sources: ['port-x'] }] }), env))).toMatch(/server\.auth\.apiKeys\[0\]\.sources: unknown source 'port-x'/);
    expect(errorOf(() => parseConfig(withAuth({ apiKeys: [{ id: 'a', sha256: digest, sources: '*' }, { id: 'a', sha256: digest, sources: '*' }] }), env))).toMatch(/duplicate key id 'a'/);
    expect(errorOf(() => parseConfig(withAuth({ jwt: { issuer: 'i', audience: 'a', publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' } }), env))).toMatch(/publicKey: not a public key/);
    expect(errorOf(() => parseConfig(withAuth({ jwt: { issuer: 'i', audience: 'a' } }), env))).toMatch(/exactly one of jwksUrl and publicKey/);
    expect(errorOf(() => parseConfig(withAuth({}), env))).toMatch(/give apiKeys, jwt, or both/);
  });

  it('allows no auth on loopback only, unless mode: none says so', () => {
    expect(() => checkExposure({ auth: null, host: '127.0.0.1' })).not.toThrow();
    expect(() => checkExposure({ auth: null, host: '::1' })).not.toThrow();
    expect(() => checkExposure({ auth: null, host: 'localhost' })).not.toThrow();
    expect(errorOf(() => checkExposure({ auth: null, host: '0.0.0.0' }))).toMatch(/server\.auth: required to listen on '0\.0\.0\.0'/);
    expect(errorOf(() => checkExposure({ auth: null, host: '::' }))).toMatch(/required to listen on '::'/);
    expect(() => checkExposure({ auth: { mode: 'none' }, host: '0.0.0.0' })).not.toThrow();
  });

  it('accepts the example config of the README, which listens on every address', () => {
    const file = path.resolve(__dirname, '../config.example.yaml');
    const parsed = loadConfigFile(file, { AUDIT_GATEWAY_CURSOR_SECRET: SECRET, NIRVANA_API_KEY: 'k', SECOPS_KEY_SHA256: digest, PLATFORM_KEY_SHA256: 'cd'.repeat(32) });
    expect(() => checkExposure(parsed.server)).not.toThrow();
    expect(parsed.server.auth).toMatchObject({ mode: 'required', apiKeys: [{ id: 'secops', sources: '*' }, { id: 'platform-team', sources: ['nirvana-main'] }] });
  });
});

describe('readRuntimeSettings', () => {
  it('reads --config, PORT and LOG_LEVEL', () => {
    expect(readRuntimeSettings(['--config', 'a.yaml'], { PORT: '5000', LOG_LEVEL: 'debug' })).toMatchObject({ configPath: 'a.yaml', port: 5000, logLevel: 'debug' });
    expect(readRuntimeSettings([], { AUDIT_GATEWAY_CONFIG: 'b.yaml' }).configPath).toBe('b.yaml');
  });

  it('refuses a bad PORT and unknown arguments', () => {
    expect(() => readRuntimeSettings([], { PORT: 'x' })).toThrow('PORT');
    expect(() => readRuntimeSettings(['--verbose'], {})).toThrow("unknown argument '--verbose'");
  });
});
