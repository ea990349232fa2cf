import fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import net from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRY, DEFAULT_TIMEOUTS } from './http/upstream-client';
import { VENDORS, type Vendor } from './models/audit-event';
import { isJsonObject } from './models/json';
import type { AdmissionLimits } from './admission';
import { isLoopbackHost, type AuthConfig } from './auth';
import type { BaseSourceConfig } from './sources/vendor-module';
import { EXPORT_DEFAULTS, type ExportSettings } from './export/settings';
import { ed25519PrivateKey } from './export/signature';
import { vendorModules } from './vendors';
import type { CorsSettings } from './observability/cors';
import type { MetricsSettings } from './observability/metrics';

/**
 * Config of one source: the keys every source has plus its vendor's own (credentials), already
 * validated by the vendor's schema.
 */
export type SourceConfig = BaseSourceConfig & Record<string, unknown>;

/** Server-wide settings. */
export interface ServerConfig {
  /** TCP port; default 4000 (or `PORT`). */
  port: number;
  /** Interface to listen on; default 127.0.0.1 (or `HOST`). */
  host: string;
  /** HMAC key for cursors, at least 32 bytes. */
  cursorSecret: string;
  /** Keys accepted for verification only, during a key rotation's grace period. */
  /** Retired cursor secrets, each verifying until its end (ms); see `CursorCodecOptions.previousSecrets`. */
  previousCursorSecrets: Array<{ secret: string; untilMs: number }>;
  /** Age after which a cursor is refused as expired; default 86,400 s. */
  cursorTtlSeconds: number;
  /** Deadline of one GraphQL request; default 10,000 ms. Every upstream deadline must be shorter. */
  requestTimeoutMs: number;
  /** Largest request body; default 1 MiB. */
  maxBodyBytes: number;
  /** Introspection and GraphiQL; default true. */
  introspection: boolean;
  graphiql: boolean;
  /** Upstream requests one source may make for one page before the page stops short; default 20. */
  scanBudgetRequests: number;
  /** `auditStatistics`: how far a count may scan, and how long an answer is reused; see {@link StatisticsSettings}. */
  statistics: StatisticsSettings;
  /** Events the batch cache holds for later pages of traversals; default 10,000 (30 to 60 MB of heap, see `createGatewayCaches`). */
  cacheMaxEvents: number;
  /**
   * How long an upstream may take to make an event visible after its timestamp; default 0. Every
   * snapshot ends this far in the past, so an event that arrives late, but within the window, is
   * never behind a traversal's position when it appears.
   */
  settleWindowMs: number;
  /** The most nodes one request may make the gateway fetch (see `operationCost`); default 10,000. */
  maxCost: number;
  /** Requests at once, queued, and per client; see `AdmissionLimits`. */
  admission: AdmissionLimits;
  /** `/metrics` in Prometheus text format: on the API port behind the API's auth, or on a port of its own. */
  metrics: MetricsSettings;
  /** Browser origins allowed to call the gateway (CORS); null answers no preflight and sends no CORS header. */
  cors: CorsSettings | null;
  /**
   * Who may call and what each may read; null when the config says nothing, which is allowed on
   * a loopback host only (see `checkExposure`).
   */
  auth: AuthConfig | null;
  /** Evidence exports (`startAuditExport`); null when the config has no `server.exports`, which turns them off. */
  exports: ExportSettings | null;
  /** `server.cache`: where state shared by replicas lives; see {@link CacheSettings}. */
  cache: CacheSettings;
  /**
   * Serve the schema as an Apollo Federation 2 subgraph (`_service`, `_entities`, `@key` on the
   * `Node` types); default false, which serves the plain schema.
   */
  subgraph: boolean;
}

/** `server.cache`. */
export interface CacheSettings {
  /**
   * A Redis (`redis://` or `rediss://`) that every replica of one gateway shares: caches, export
   * jobs, rate-limit counters and open circuits live there (docs/replicas.md). Null keeps all of
   * it in the process. It may hold a password, so it is never logged.
   */
  redisUrl: string | null;
}

/** `server.statistics`. */
export interface StatisticsSettings {
  /**
   * Upstream requests one source may make for one `auditStatistics` answer when it has to be
   * scanned; default 1,000 (100,000 events of a vendor that pages by 100). A source that needs
   * more is reported INCOMPLETE, and left out of the counts, rather than guessed.
   */
  maxScanRequests: number;
  /** How long an answer is reused for the same caller scope, filter and snapshot; default 60 s. */
  cacheTtlSeconds: number;
}

/** The whole validated config. */
export interface GatewayConfig {
  server: ServerConfig;
  sources: SourceConfig[];
  /** True when the gateway made this config itself over its simulators. */
  demo: boolean;
}

/** A config that cannot be used; the message names the key path and never a secret's value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const SOURCE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const timeoutsSchema = z.strictObject({
  connectMs: z.number().int().positive().default(DEFAULT_TIMEOUTS.connectMs),
  headersMs: z.number().int().positive().default(DEFAULT_TIMEOUTS.headersMs),
  bodyMs: z.number().int().positive().default(DEFAULT_TIMEOUTS.bodyMs),
  requestMs: z.number().int().positive().default(DEFAULT_TIMEOUTS.requestMs),
});

const retrySchema = z.strictObject({
  maxRetries: z.number().int().min(0).max(5).default(DEFAULT_RETRY.maxRetries),
  minDelayMs: z.number().int().positive().default(DEFAULT_RETRY.minDelayMs),
  maxDelayMs: z.number().int().positive().default(DEFAULT_RETRY.maxDelayMs),
  budgetRatio: z.number().min(0).max(1).default(DEFAULT_RETRY.budgetRatio),
  minRetriesPerSecond: z.number().min(0).max(1000).default(DEFAULT_RETRY.minRetriesPerSecond),
});

const circuitBreakerSchema = z.strictObject({
  threshold: z.number().int().min(1).max(1000).default(DEFAULT_CIRCUIT_BREAKER.threshold),
  halfOpenAfterMs: z.number().int().min(10).max(3_600_000).default(DEFAULT_CIRCUIT_BREAKER.halfOpenAfterMs),
});

const baseSourceSchema = z.object({
  id: z.string().regex(SOURCE_ID, 'lower-case letters, digits, - and _ only, at most 63 characters'),
  vendor: z.enum(VENDORS),
  name: z.string().min(1).max(100).optional(),
  baseUrl: z.string().min(1),
  allowPrivateNetwork: z.boolean().default(false),
  timeouts: timeoutsSchema.default(DEFAULT_TIMEOUTS),
  retry: retrySchema.default(DEFAULT_RETRY),
  circuitBreaker: circuitBreakerSchema.default(DEFAULT_CIRCUIT_BREAKER),
  maxConnections: z.number().int().min(1).max(256).default(16),
  maxResponseBytes: z.number().int().min(1024).default(10 * 1024 * 1024),
});
const BASE_SOURCE_KEYS = new Set(Object.keys(baseSourceSchema.shape));

const serverSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  cursorSecret: z.string().min(32, 'at least 32 characters').optional(),
  // A bare secret verifies for one cursor lifetime after start-up: a cursor it signed before the
  // rotation is expired by then anyway. `{secret, until}` sets the end explicitly.
  previousCursorSecrets: z
    .array(z.union([z.string().min(32, 'at least 32 characters'), z.strictObject({ secret: z.string().min(32, 'at least 32 characters'), until: z.iso.datetime({ offset: true }) })]))
    .default([]),
  cursorTtlSeconds: z.number().int().positive().default(86_400),
  requestTimeoutMs: z.number().int().positive().default(10_000),
  maxBodyBytes: z.number().int().min(1024).default(1024 * 1024),
  // Off under NODE_ENV=production unless the config turns them on (see parseConfig).
  introspection: z.boolean().optional(),
  graphiql: z.boolean().optional(),
  scanBudgetRequests: z.number().int().min(1).max(1000).default(20),
  statistics: z
    .strictObject({
      maxScanRequests: z.number().int().min(1).max(100_000).default(1_000),
      cacheTtlSeconds: z.number().int().min(0).max(86_400).default(60),
    })
    .default({ maxScanRequests: 1_000, cacheTtlSeconds: 60 }),
  cacheMaxEvents: z.number().int().min(0).max(10_000_000).default(10_000),
  settleWindowMs: z.number().int().min(0).max(86_400_000).default(0),
  maxCost: z.number().int().min(100).max(10_000_000).default(10_000),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      port: z.number().int().min(0).max(65535).optional(),
      host: z.string().min(1).optional(),
    })
    .refine((metrics) => metrics.host === undefined || metrics.port !== undefined, { message: 'host needs a port: without one, /metrics is served on the API port', path: ['host'] })
    .default({ enabled: true }),
  cors: z
    .strictObject({
      origins: z.array(z.string().refine(isOriginOrStar, 'an origin such as https://app.example.com (scheme, host and port; no path), or *')).min(1).max(100),
      allowCredentials: z.boolean().default(false),
      maxAge: z.number().int().min(0).max(86_400).default(600),
    })
    .refine((cors) => !(cors.allowCredentials && cors.origins.includes('*')), { message: "'*' cannot be combined with allowCredentials: list the origins", path: ['origins'] })
    .optional(),
  subgraph: z.boolean().default(false),
  auth: z
    .union([
      z.strictObject({ mode: z.literal('none') }),
      z.strictObject({
        mode: z.literal('required').optional(),
        apiKeys: z
          .array(
            z.strictObject({
              id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1 to 64 letters, digits, ., _ or -'),
              sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the hex SHA-256 of the key (64 hex digits), never the key itself'),
              sources: z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]),
            }),
          )
          .default([]),
        jwt: z
          .strictObject({
            issuer: z.string().min(1),
            audience: z.string().min(1),
            jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
            publicKey: z.string().includes('BEGIN PUBLIC KEY').optional(),
            sourcesClaim: z.string().min(1).default('audit_sources'),
            algorithms: z.array(z.string().min(1)).min(1).default(['RS256', 'ES256', 'EdDSA']),
          })
          .optional(),
      }),
    ])
    .optional(),
  exports: z
    .strictObject({
      dir: z.string().min(1),
      // Checked as a key after parsing, so that no message ever quotes it.
      signingKey: z.string().min(1),
      ttlSeconds: z.number().int().min(1).max(31_536_000).default(EXPORT_DEFAULTS.ttlSeconds),
      tolerateSourceFailure: z.boolean().default(EXPORT_DEFAULTS.tolerateSourceFailure),
      maxConcurrent: z.number().int().min(1).max(64).default(EXPORT_DEFAULTS.maxConcurrent),
      sourceRetries: z.number().int().min(0).max(10).default(EXPORT_DEFAULTS.sourceRetries),
      compressionLevel: z.number().int().min(0).max(9).default(EXPORT_DEFAULTS.compressionLevel),
    })
    .optional(),
  admission: z
    .strictObject({
      maxInFlight: z.number().int().min(1).max(10_000).default(32),
      maxQueued: z.number().int().min(0).max(100_000).default(64),
      // Off unless set: see `AdmissionLimits`.
      perClientPerMinute: z.number().int().min(1).nullable().default(null),
      costPerHour: z.number().int().min(1).nullable().default(null),
    })
    .default({ maxInFlight: 32, maxQueued: 64, perClientPerMinute: null, costPerHour: null }),
  cache: z
    .strictObject({
      // Checked after parsing (redisUrlOf), so that no message ever quotes it: it may hold a password.
      redisUrl: z.string().min(1).optional(),
    })
    .default({}),
});

const fileSchema = z.strictObject({
  server: z.unknown().optional(),
  sources: z.array(z.unknown()).min(1, 'at least one source'),
});

/** Settings read from the process: the only place `process.env` and `argv` are read. */
export interface RuntimeSettings {
  configPath: string | undefined;
  port: number | undefined;
  host: string | undefined;
  logLevel: string;
  env: NodeJS.ProcessEnv;
}

/** Reads `--config FILE`, `AUDIT_GATEWAY_CONFIG`, `PORT`, `HOST` and `LOG_LEVEL`. */
export function readRuntimeSettings(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  let configPath = env['AUDIT_GATEWAY_CONFIG'] || undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config') {
      configPath = argv[i + 1];
      if (!configPath) throw new ConfigError('--config needs a file path');
      i++;
    } else if (arg?.startsWith('--config=')) {
      configPath = arg.slice('--config='.length);
    } else {
      throw new ConfigError(`unknown argument '${arg}'; usage: audit-gateway [--config FILE]`);
    }
  }
  const portText = env['PORT'];
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT: must be an integer from 0 to 65535');
  }
  return { configPath, port, host: env['HOST'] || undefined, logLevel: env['LOG_LEVEL'] || 'info', env };
}

/** Reads, interpolates and validates a YAML config file. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv): GatewayConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file '${path}': ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file '${path}' is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseConfig(document, env);
}

/**
 * Validates a parsed config document. `${VAR}` in any string is replaced by the environment
 * variable (a missing or empty one is an error naming it); `$${` stands for a literal `${`.
 */
export function parseConfig(document: unknown, env: NodeJS.ProcessEnv, nowMs: number = Date.now()): GatewayConfig {
  const interpolated = interpolate(document, env, '');
  const file = check(fileSchema, interpolated, '');
  const server = check(serverSchema, file.server ?? {}, 'server');
  const sources = file.sources.map((raw, index) => parseSource(raw, `sources[${index}]`));

  const seen = new Set<string>();
  sources.forEach((source, index) => {
    if (seen.has(source.id)) throw new ConfigError(`sources[${index}].id: duplicate source id '${source.id}'`);
    seen.add(source.id);
    if (source.timeouts.requestMs >= server.requestTimeoutMs) {
      throw new ConfigError(
        `sources[${index}].timeouts.requestMs: must be shorter than server.requestTimeoutMs (${server.requestTimeoutMs})`,
      );
    }
  });
  if (!server.cursorSecret) throw new ConfigError('server.cursorSecret: required (at least 32 characters, e.g. ${CURSOR_SECRET})');
  // A budget below maxCost would refuse the costliest allowed operations for ever, each with a Retry-After that never comes true.
  if (server.admission.costPerHour !== null && server.admission.costPerHour < server.maxCost) {
    throw new ConfigError(`server.admission.costPerHour: must be at least server.maxCost (${server.maxCost}), or null for no budget`);
  }
  // A schema map and a query console help an attacker more than a user in production, where the
  // operator turns them on knowingly; elsewhere (development, the demo) they are how one learns.
  const exploring = env['NODE_ENV'] !== 'production';

  return {
    server: {
      port: server.port ?? 4000,
      host: server.host ?? '127.0.0.1',
      cursorSecret: server.cursorSecret,
      previousCursorSecrets: server.previousCursorSecrets.map((entry) =>
        typeof entry === 'string' ? { secret: entry, untilMs: nowMs + server.cursorTtlSeconds * 1000 } : { secret: entry.secret, untilMs: Date.parse(entry.until) },
      ),
      cursorTtlSeconds: server.cursorTtlSeconds,
      requestTimeoutMs: server.requestTimeoutMs,
      maxBodyBytes: server.maxBodyBytes,
      introspection: server.introspection ?? exploring,
      graphiql: server.graphiql ?? exploring,
      scanBudgetRequests: server.scanBudgetRequests,
      statistics: server.statistics,
      cacheMaxEvents: server.cacheMaxEvents,
      settleWindowMs: server.settleWindowMs,
      maxCost: server.maxCost,
      admission: server.admission,
      metrics: metricsSettingsOf(server.metrics, server.port ?? 4000),
      cors: server.cors ? { ...server.cors, origins: server.cors.origins.map((origin) => (origin === '*' ? origin : new URL(origin).origin)) } : null,
      auth: authConfigOf(server.auth, sources),
      exports: exportSettingsOf(server.exports),
      cache: { redisUrl: redisUrlOf(server.cache.redisUrl) },
      subgraph: server.subgraph,
    },
    sources,
    demo: false,
  };
}

/**
 * Defaults of the `server` section, for configs the gateway builds itself (demo mode, tests):
 * introspection and GraphiQL on, whatever NODE_ENV says, since the demo is for exploring.
 */
export function defaultServerConfig(overrides: Partial<ServerConfig> & Pick<ServerConfig, 'cursorSecret'>): ServerConfig {
  const parsed = serverSchema.parse({});
  return {
    port: 4000,
    host: '127.0.0.1',
    previousCursorSecrets: [],
    cursorTtlSeconds: parsed.cursorTtlSeconds,
    requestTimeoutMs: parsed.requestTimeoutMs,
    maxBodyBytes: parsed.maxBodyBytes,
    introspection: true,
    graphiql: true,
    scanBudgetRequests: parsed.scanBudgetRequests,
    statistics: parsed.statistics,
    cacheMaxEvents: parsed.cacheMaxEvents,
    settleWindowMs: parsed.settleWindowMs,
    maxCost: parsed.maxCost,
    // No per-client limit or budget for the demo and tests, which page as fast as they can from one address.
    admission: { ...parsed.admission, perClientPerMinute: null, costPerHour: null },
    metrics: { enabled: true, port: null, host: null },
    cors: null,
    auth: null,
    exports: null,
    cache: { redisUrl: null },
    subgraph: parsed.subgraph,
    ...overrides,
  };
}

/** Whether `text` is `*` or a bare origin (`scheme://host[:port]`), as a browser sends it in `Origin`. */
function isOriginOrStar(text: string): boolean {
  if (text === '*') return true;
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text.toLowerCase().replace(/\/$/, '');
  } catch {
    return false;
  }
}

/** `server.metrics`: a port of its own must not be the API's. */
function metricsSettingsOf(metrics: z.infer<typeof serverSchema>['metrics'], apiPort: number): MetricsSettings {
  if (metrics.port !== undefined && metrics.port !== 0 && metrics.port === apiPort) failWith(`server.metrics.port: must differ from server.port (${apiPort}), or be left out to serve /metrics on the API port`);
  return { enabled: metrics.enabled, port: metrics.port ?? null, host: metrics.host ?? null };
}

/** `server.exports` with its signing key checked: an unusable key stops start-up, naming the key path only. */
function exportSettingsOf(exports: z.infer<typeof serverSchema>['exports']): ExportSettings | null {
  if (exports === undefined) return null;
  try {
    ed25519PrivateKey(exports.signingKey);
  } catch (error) {
    failWith(`server.exports.signingKey: ${(error as Error).message} (an Ed25519 private key in PEM, PKCS#8: openssl genpkey -algorithm ed25519)`);
  }
  const { signingKey, ...rest } = exports;
  return { ...rest, signingKeyPem: signingKey };
}

/** `server.cache.redisUrl` checked for its form; whether Redis answers is checked at start (`SharedStore.connect`). */
function redisUrlOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return failWith('server.cache.redisUrl: not a valid URL (redis://[:password@]host[:port][/db])');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') failWith('server.cache.redisUrl: must be a redis:// or rediss:// URL');
  if (!url.hostname) failWith('server.cache.redisUrl: needs a host');
  return text;
}

/** `server.auth` checked against the sources it names. */
function authConfigOf(auth: z.infer<typeof serverSchema>['auth'], sources: readonly SourceConfig[]): AuthConfig | null {
  if (auth === undefined) return null;
  if (auth.mode === 'none') return { mode: 'none' };
  const known = new Set(sources.map((source) => source.id));
  const ids = new Set<string>();
  auth.apiKeys.forEach((key, index) => {
    if (ids.has(key.id)) failWith(`server.auth.apiKeys[${index}].id: duplicate key id '${key.id}'`);
    ids.add(key.id);
    const unknown = key.sources === '*' ? undefined : key.sources.find((id) => id !== '*' && !known.has(id));
    if (unknown !== undefined) failWith(`server.auth.apiKeys[${index}].sources: unknown source '${unknown}'`);
  });
  const jwt = auth.jwt;
  if (jwt && (jwt.jwksUrl === undefined) === (jwt.publicKey === undefined)) failWith('server.auth.jwt: give exactly one of jwksUrl and publicKey');
  if (jwt?.publicKey !== undefined) {
    try {
      createPublicKey(jwt.publicKey);
    } catch {
      failWith('server.auth.jwt.publicKey: not a public key in PEM (SPKI)');
    }
  }
  if (auth.apiKeys.length === 0 && !jwt) failWith('server.auth: give apiKeys, jwt, or both (or mode: none to run without authentication)');
  return {
    mode: 'required',
    apiKeys: auth.apiKeys.map((key) => ({ id: key.id, sha256: key.sha256.toLowerCase(), sources: key.sources === '*' || key.sources.includes('*') ? '*' : key.sources })),
    jwt: jwt ? { issuer: jwt.issuer, audience: jwt.audience, jwksUrl: jwt.jwksUrl ?? null, publicKey: jwt.publicKey ?? null, sourcesClaim: jwt.sourcesClaim, algorithms: jwt.algorithms } : null,
  };
}

/**
 * Refuses to serve without authentication where others can reach the gateway: with no
 * `server.auth`, the host must be a loopback address; anything else needs `auth: {mode: none}`,
 * said explicitly, or keys.
 */
export function checkExposure(server: Pick<ServerConfig, 'auth' | 'host'>): void {
  if (server.auth === null && !isLoopbackHost(server.host)) {
    failWith(`server.auth: required to listen on '${server.host}', which is not a loopback address; give apiKeys or jwt, or auth: {mode: none} to serve without authentication knowingly`);
  }
}

/** Builds a source config in code (demo mode, tests), validated like one from a file. */
export function sourceConfig(raw: Record<string, unknown>): SourceConfig {
  return parseSource(raw, `source '${String(raw['id'])}'`);
}

function parseSource(raw: unknown, path: string): SourceConfig {
  if (!isJsonObject(raw)) throw new ConfigError(`${path}: must be a mapping`);
  const base = check(baseSourceSchema, raw, path);
  const module = vendorModules[base.vendor];
  if (!module) throw new ConfigError(`${path}.vendor: vendor '${base.vendor}' is not available in this build`);
  const vendorKeys = Object.fromEntries(Object.entries(raw).filter(([key]) => !BASE_SOURCE_KEYS.has(key)));
  const credentials = check(module.credentialsSchema, vendorKeys, path) as Record<string, unknown>;
  checkBaseUrl(base.baseUrl, base.allowPrivateNetwork, module.allowedHostSuffixes, `${path}.baseUrl`);
  return { ...credentials, ...base, name: base.name };
}

function checkBaseUrl(text: string, allowPrivateNetwork: boolean, suffixes: readonly string[], path: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${path}: not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${path}: must be an http(s) URL`);
  if (url.username || url.password) throw new ConfigError(`${path}: must not carry credentials; use the source's credential keys`);
  if (url.search || url.hash) throw new ConfigError(`${path}: must not have a query or fragment`);
  if (allowPrivateNetwork) return;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const onAllowlist = suffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
  if (url.protocol !== 'https:' || net.isIP(host) !== 0 || host === 'localhost' || !onAllowlist) {
    throw new ConfigError(
      `${path}: https host on the vendor allowlist (${suffixes.join(', ')}) required (or allowPrivateNetwork: true)`,
    );
  }
}

function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`${path || 'config'}: '\${${name}}' is not a valid variable reference`);
      const resolved = env[name];
      if (resolved === undefined || resolved === '') {
        throw new ConfigError(`${path || 'config'}: environment variable ${name} is not set or is empty`);
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, env, `${path}[${index}]`));
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, path ? `${path}.${key}` : key)]),
    );
  }
  return value;
}

function check<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const issuePath = [path, ...issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))]
    .filter(Boolean)
    .join('.')
    .replace(/\.\[/g, '[');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  // zod quotes the received value in some messages; a secret must never be echoed.
  message = message.replace(/received .*/i, '').trim();
  return failWith(`${issuePath || 'config'}: ${message}`);
}

function failWith(message: string): never {
  throw new ConfigError(message);
}

/** The vendors of the configured sources, for log lines. */
export function describeSources(config: GatewayConfig): string {
  return config.sources.map((source) => `${source.id} (${source.vendor as Vendor})`).join(', ');
}
