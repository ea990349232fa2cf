import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { request } from 'undici';
import type { AuthConfig } from '../../src/auth';
import { ConfigError, defaultServerConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createGateway } from '../../src/server';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const OPS_KEY = `ops-${randomBytes(16).toString('hex')}`;
const NIRVANA_KEY = `nv-${randomBytes(16).toString('hex')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'audit-gateway';

const EVENTS = `query ($filter: AuditEventFilter, $after: String) {
  auditEvents(first: 20, after: $after, filter: $filter) { nodes { id source { sourceId } actor { node { id } } } pageInfo { endCursor } }
}`;

/** Collects the gateway's log lines. */
function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe('authentication and per-caller source scoping', () => {
  let setup: TestGateway;
  let signingKey: KeyLike;
  let otherKey: KeyLike;
  const log = logSink();
  const upstreamCalls = () => [...setup.simulators.values()].reduce((sum, simulator) => sum + simulator.control.stats.requests, 0);
  const portCalls = () => setup.simulators.get('port-main')!.control.stats.requests;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const auth: AuthConfig = {
      mode: 'required',
      apiKeys: [
        { id: 'ops', sha256: sha256(OPS_KEY), sources: '*' },
        { id: 'nirvana-reader', sha256: sha256(NIRVANA_KEY), sources: ['nirvana-main'] },
      ],
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: null, publicKey: await exportSPKI(pair.publicKey), sourcesClaim: 'audit_sources', algorithms: ['ES256'] },
    };
    setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 60 },
        { id: 'port-main', module: portModule, size: 60 },
      ],
      { auth },
      { logDestination: log.stream },
    );
  });
  afterAll(async () => {
    await setup?.close();
  });

  const token = (claims: Record<string, unknown>, options: { audience?: string; expiresIn?: string | number; key?: KeyLike } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('alice@example.test')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? signingKey);

  describe('refuses callers without a valid credential, before any upstream call', () => {
    it('answers 401 UNAUTHENTICATED with a Bearer challenge when no credential is sent', async () => {
      const before = upstreamCalls();
      const response = await setup.query('{ auditEvents(first: 5) { nodes { id } } }');
      expect(response.status).toBe(401);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
      expect(response.errors?.[0]?.message).toMatch(/Authorization: Bearer/);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="audit-gateway"');
      expect(upstreamCalls()).toBe(before);
    });

    it.each([
      ['an unknown key', () => Promise.resolve(`ops-${randomBytes(16).toString('hex')}`)],
      ['a token of another audience', () => token({ audit_sources: '*' }, { audience: 'someone-else' })],
      ['an expired token', () => token({ audit_sources: '*' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
      ['a token signed by another key', () => token({ audit_sources: '*' }, { key: otherKey })],
      ['a token without the sources claim', () => token({})],
    ])('answers 401 with error="invalid_token" for %s', async (_name, credential) => {
      const before = upstreamCalls();
      const response = await setup.query('{ sources { sourceId } }', undefined, bearer(await credential()));
      expect(response.status).toBe(401);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="audit-gateway", error="invalid_token"');
      expect(upstreamCalls()).toBe(before);
    });

    it('refuses an unsigned token (alg: none) and a credential in the query string instead of the header', async () => {
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', iat: now, exp: now + 300, audit_sources: '*' })}.`;
      const none = await setup.query('{ sources { sourceId } }', undefined, bearer(unsigned));
      expect(none.status).toBe(401);
      expect(none.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');

      for (const name of ['access_token', 'api_key', 'token']) {
        const url = `${setup.gateway.url}?${name}=${encodeURIComponent(OPS_KEY)}&query=${encodeURIComponent('{ sources { sourceId } }')}`;
        const response = await request(url, { headers: { 'apollo-require-preflight': 'true' } });
        expect(response.statusCode).toBe(401);
        const body = (await response.body.json()) as { errors: Array<{ extensions: { code: string } }> };
        expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
      }
    });

    it('keeps health checks and the GraphiQL page open, so probes and the explorer work without a key', async () => {
      const health = await request(setup.gateway.url.replace('/graphql', '/healthz'));
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      const ready = await request(setup.gateway.url.replace('/graphql', '/readyz'));
      expect(ready.statusCode).toBe(200);
      await ready.body.dump();
      const page = await request(setup.gateway.url, { headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(200);
      expect(await page.body.text()).toMatch(/<html/i);
    });
  });

  describe('a key scoped to one source', () => {
    it('sees only that source in sources, source and the merged connection', async () => {
      const sources = await setup.query<{ sources: Array<{ sourceId: string }>; port: unknown }>('{ sources { sourceId } port: source(sourceId: "port-main") { sourceId } }', undefined, bearer(NIRVANA_KEY));
      expect(sources.errors).toBeUndefined();
      expect(sources.data?.sources).toEqual([{ sourceId: 'nirvana-main' }]);
      expect(sources.data?.port).toBeNull();

      const before = portCalls();
      const events = await setup.query<{ auditEvents: { nodes: Array<{ source: { sourceId: string } }> } }>(EVENTS, {}, bearer(NIRVANA_KEY));
      expect(events.errors).toBeUndefined();
      expect(events.data?.auditEvents.nodes).toHaveLength(20);
      expect(new Set(events.data?.auditEvents.nodes.map((node) => node.source.sourceId))).toEqual(new Set(['nirvana-main']));
      expect(portCalls()).toBe(before);
    });

    it('gets the same UNKNOWN_SOURCE for a source it may not read as for one that does not exist, so names are not probed', async () => {
      const foreign = await setup.query(EVENTS, { filter: { sources: ['port-main'] } }, bearer(NIRVANA_KEY));
      const missing = await setup.query(EVENTS, { filter: { sources: ['no-such-source'] } }, bearer(NIRVANA_KEY));
      for (const response of [foreign, missing]) {
        expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_SOURCE', field: 'filter.sources' });
      }
      expect(foreign.errors?.[0]?.message.replace('port-main', 'X')).toBe(missing.errors?.[0]?.message.replace('no-such-source', 'X'));
    });

    it('finds nothing by id in another source, neither events nor actors, without asking its upstream', async () => {
      const all = await setup.query<{ auditEvents: { nodes: Array<{ id: string; source: { sourceId: string }; actor: { node: { id: string } | null } | null }> } }>(
        EVENTS,
        { filter: { sources: ['port-main'] } },
        bearer(OPS_KEY),
      );
      const portEvent = all.data!.auditEvents.nodes[0]!;
      const portActor = all.data!.auditEvents.nodes.find((node) => node.actor?.node)!.actor!.node!.id;
      expect(portEvent.source.sourceId).toBe('port-main');

      const before = portCalls();
      const lookup = await setup.query<{ event: unknown; actor: unknown; many: unknown[] }>(
        'query ($event: ID!, $actor: ID!) { event: node(id: $event) { id } actor: node(id: $actor) { id } many: nodes(ids: [$event, $actor]) { id } }',
        { event: portEvent.id, actor: portActor },
        bearer(NIRVANA_KEY),
      );
      expect(lookup.errors).toBeUndefined();
      expect(lookup.data).toEqual({ event: null, actor: null, many: [null, null] });
      expect(portCalls()).toBe(before);

      const owner = await setup.query<{ event: { id: string } | null }>('query ($event: ID!) { event: node(id: $event) { id } }', { event: portEvent.id }, bearer(OPS_KEY));
      expect(owner.data?.event).toEqual({ id: portEvent.id });
    });

    it("refuses another caller's cursor as a forged one, even for a query it could run", async () => {
      const filter = { sources: ['nirvana-main'] };
      const ops = await setup.query<{ auditEvents: { pageInfo: { endCursor: string } } }>(EVENTS, { filter }, bearer(OPS_KEY));
      const endCursor = ops.data!.auditEvents.pageInfo.endCursor;
      const foreign = await setup.query(EVENTS, { filter, after: endCursor }, bearer(NIRVANA_KEY));
      expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_INVALID' });
      expect(foreign.errors?.[0]?.message).toBe('after: cursor signature mismatch');
      const own = await setup.query(EVENTS, { filter, after: endCursor }, bearer(OPS_KEY));
      expect(own.errors).toBeUndefined();
    });
  });

  it("never serves one scope's cached results to another: counts and nested pages are the caller's own", async () => {
    const count = '{ auditEvents(first: 1) { totalCount nodes { actor { node { events(first: 50) { nodes { source { sourceId } } } } } } } }';
    type Counted = { auditEvents: { totalCount: number; nodes: Array<{ actor: { node: { events: { nodes: Array<{ source: { sourceId: string } }> } } | null } | null }> } };
    const all = await setup.query<Counted>(count, undefined, bearer(OPS_KEY));
    const scoped = await setup.query<Counted>(count, undefined, bearer(NIRVANA_KEY));
    const again = await setup.query<Counted>(count, undefined, bearer(OPS_KEY));
    // Port cannot count for the gateway, so every source together has no exact total.
    expect(all.data?.auditEvents.totalCount).toBeNull();
    expect(scoped.data?.auditEvents.totalCount).toBe(60);
    expect(again.data?.auditEvents.totalCount).toBeNull();
    const nested = scoped.data?.auditEvents.nodes[0]?.actor?.node?.events.nodes ?? [];
    expect(new Set(nested.map((node) => node.source.sourceId))).toEqual(new Set(['nirvana-main']));
  });

  describe('a JWT of the configured issuer', () => {
    it('reads the sources its claim lists', async () => {
      const credential = await token({ audit_sources: ['port-main'] });
      const response = await setup.query<{ sources: Array<{ sourceId: string }> }>('{ sources { sourceId } }', undefined, bearer(credential));
      expect(response.status).toBe(200);
      expect(response.data?.sources).toEqual([{ sourceId: 'port-main' }]);
    });

    it('reads every source with a `*` claim', async () => {
      const response = await setup.query<{ sources: Array<{ sourceId: string }> }>('{ sources { sourceId } }', undefined, bearer(await token({ audit_sources: '*' })));
      expect(response.data?.sources.map((source) => source.sourceId).sort()).toEqual(['nirvana-main', 'port-main']);
    });
  });

  it('never writes a credential to the log, accepted or refused', async () => {
    await setup.query('{ sources { sourceId } }', undefined, bearer(NIRVANA_KEY));
    await setup.query('{ sources { sourceId } }', undefined, bearer('not-a-key'));
    const refused = await token({ audit_sources: '*' }, { audience: 'someone-else' });
    await setup.query('{ sources { sourceId } }', undefined, bearer(refused));
    const text = log.lines.join('\n');
    expect(text).toContain('token refused');
    expect(text).not.toContain(refused);
    expect(text).not.toContain(refused.split('.')[2]!);
    expect(text).not.toContain(NIRVANA_KEY);
    expect(text).not.toContain(OPS_KEY);
    expect(text).not.toContain('not-a-key');
  });
});

describe('exposure without authentication', () => {
  it('refuses to start on a non-loopback address when the config has no server.auth', async () => {
    const config = { server: defaultServerConfig({ cursorSecret: 'c'.repeat(64), host: '0.0.0.0', port: 0 }), sources: [], demo: false };
    await expect(createGateway(config, { logger: createLogger({ level: 'silent' }) })).rejects.toThrow(ConfigError);
    await expect(createGateway(config, { logger: createLogger({ level: 'silent' }) })).rejects.toThrow(/server\.auth: required to listen on '0\.0\.0\.0'/);
  });

  it('starts on any address when the config says auth: {mode: none} knowingly', async () => {
    const config = { server: defaultServerConfig({ cursorSecret: 'c'.repeat(64), host: '0.0.0.0', port: 0, auth: { mode: 'none' } }), sources: [], demo: false };
    const gateway = await createGateway(config, { logger: createLogger({ level: 'silent' }) });
    await gateway.stop(100);
  });
});
