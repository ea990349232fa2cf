import { ConfigError, parseConfig, readRuntimeSettings } from '../src/config';

const SECRET = 's'.repeat(40);

function config(source: Record<string, unknown>, server: Record<string, unknown> = { cursorSecret: SECRET }) {
  return { server, sources: [{ id: 'nirvana-main', vendor: 'nirvana', baseUrl: 'https://api.nirvanalabs.io', apiKey: '${NIRVANA_API_KEY}', ...source }] };
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

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
