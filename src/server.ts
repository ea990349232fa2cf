import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { resolvers } from '../resolvers';
import { createGatewayCaches } from './connection/caches';
import { deadlineSignal } from './http/deadline';
import { checkExposure, type GatewayConfig, type SourceConfig } from './config';
import { createContext, type GatewayContext } from './context';
import { formatGatewayError } from './errors';
import { CursorCodec } from './connection/cursor';
import { GRAPHIQL_CSP, graphiqlAsset, graphiqlPage } from './graphiql';
import { maxAliasesRule, maxDepthRule } from './graphql/limits';
import { Admission, type CallerBudget, type Refusal } from './admission';
import { ANONYMOUS, Authenticator, type Principal } from './auth';
import { EXPORTS_PREFIX, PUBLIC_KEY_PATH, serveExportDownload, servePublicKey } from './export/download';
import { ExportService, type ExportServiceOptions } from './export/service';
import { costLimitPlugin } from './graphql/cost';
import { operationResolutionPlugin } from './graphql/operation-plugin';
import { operationReportPlugin, partialErrorsPlugin } from './graphql/plugins';
import { compiledExecution } from './graphql/compiled-execution';
import { gatewaySchema } from './graphql/schema';
import { subgraphSchema } from './graphql/subgraph';
import type { Logger } from './logger';
import { bindRequestScope, type UpstreamObserver } from './http/observation';
import { GatewayObservability } from './observability/gateway-observability';
import { readinessOf } from './observability/readiness';
import type { ObservedRequest } from './observability/request-log';
import { GatewayTracing, type TracingOptions } from './observability/tracing';
import { gatewayVersion } from './export/version';
import { SourceHealthTracker } from './sources/health';
import { SourceRegistry } from './sources/registry';
import { vendorModules } from './vendors';
import { randomUUID as newReplicaId } from 'node:crypto';
import { SharedStore, SharedStoreUnavailable } from './cache/redis-store';
import { ConfigError } from './config';
import { SharedExportJobs } from './export/shared-jobs';
import { RedisCircuitState, type SharedCircuitState } from './http/shared-circuit';

/**
 * The share of a request's deadline that pages may spend reading on (scans of filters the
 * upstreams cannot apply, tie groups): past it, each source stops after its current batch and
 * the page ends short with a cursor that resumes the scan, rather than running into the
 * deadline and failing. The rest leaves room for the batch in flight and the answer.
 */
const SCAN_SHARE_OF_DEADLINE = 0.5;

/** A running gateway. */
export interface Gateway {
  /** `http://host:port/graphql`. */
  url: string;
  port: number;
  sources: SourceRegistry;
  /** Evidence exports; null without `server.exports`. */
  exports: ExportService | null;
  /** `http://host:port/metrics` on the metrics port (`server.metrics.port`); null when /metrics is on the API port or off. */
  metricsUrl: string | null;
  /** Stops taking requests, lets in-flight ones finish (at most `drainMs`), closes upstream pools. */
  stop(drainMs?: number): Promise<void>;
}

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  logger: Logger;
  /** Overrides `config.server.port` (tests pass 0 for a free port). */
  port?: number;
  /** Timings of evidence exports that tests shorten (retry delays, the expiry sweep). */
  exportTimings?: Pick<ExportServiceOptions, 'retryDelayMs' | 'sweepIntervalMs'>;
  /**
   * Tracing: an exporter to use whatever the environment says (tests), or the environment to
   * read `OTEL_*` from; default the process environment, where tracing is off unless turned on.
   */
  tracing?: TracingOptions;
  /** Overrides `config.server.metrics.port` (tests pass 0). */
  metricsPort?: number;
}

/**
 * Fields a document may nest. The deepest useful query lists events with edges, an event's actor
 * or target entity and its events with edges, and one field of those:
 * `auditEvents.edges.node.actor.node.events.edges.node.id` is 9.
 */
const MAX_DEPTH = 9;
const MAX_ALIASES = 15;
/**
 * Lexical tokens a document may hold, checked while parsing, before validation spends anything on
 * it. GraphiQL's introspection query has about 300; a page query about 60.
 */
export const MAX_TOKENS = 2_000;

/**
 * Starts the gateway: Apollo Server 5 on a plain node:http server, so that the gateway owns
 * body limits, JSON errors, health routes, GraphiQL and graceful shutdown.
 */
export async function createGateway(config: GatewayConfig, options: GatewayOptions): Promise<Gateway> {
  checkExposure(config.server);
  const { logger } = options;
  // First: a replica that cannot reach the state its peers share must not serve as if alone.
  const shared = await connectSharedStore(config.server.cache.redisUrl, logger);
  const tracing = await GatewayTracing.create({ ...options.tracing, serviceVersion: gatewayVersion() }, logger);
  // The gauges are read at scrape time, once everything they read exists.
  const observability = new GatewayObservability({
    metrics: config.server.metrics,
    cors: config.server.cors,
    host: config.server.host,
    logger,
    tracing,
    gauges: { requestsInFlight: () => inFlight, admission: () => admission.load, exportJobs: () => exportService?.statusCounts() ?? null },
  });
  const sources = registryFromConfig(config.sources, logger, observability.upstream, shared ? new RedisCircuitState(shared.store) : undefined);
  const cursors = new CursorCodec({
    secret: config.server.cursorSecret,
    previousSecrets: config.server.previousCursorSecrets,
    ttlSeconds: config.server.cursorTtlSeconds,
  });
  const caches = createGatewayCaches({ maxCachedEvents: config.server.cacheMaxEvents, shared: shared?.store ?? null });
  observability.metrics.countLookups(caches.batches, 'batches');
  observability.metrics.countLookups(caches.counts, 'counts');
  const exportService = config.server.exports
    ? await ExportService.open({
        settings: config.server.exports,
        settleWindowMs: config.server.settleWindowMs,
        logger,
        shared: shared ? new SharedExportJobs(shared.store, { replicaId: shared.replicaId }) : null,
        ...options.exportTimings,
      })
    : null;
  const admission = new Admission(config.server.admission, { shared: shared?.store ?? null });
  const contextDeps = { sources, cursors, caches, config: config.server, logger, exports: exportService, readAhead: () => admission.spare };
  const authenticator = await Authenticator.create(config.server.auth ?? { mode: 'none' }, logger);

  const schema = config.server.subgraph ? subgraphSchema(resolvers) : gatewaySchema(resolvers);
  const maskedLogged = new WeakSet<object>();
  const apollo = new ApolloServer<GatewayContext>({
    gateway: compiledExecution(schema),
    introspection: config.server.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: !config.server.introspection,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    // The process entry stops the gateway on SIGTERM/SIGINT itself (drain, then close the
    // sources). Apollo's own handler, on by default outside NODE_ENV=test, would start a second
    // stop on the same signal, and the two never finish: a compiled gateway ignored Ctrl-C.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: MAX_TOKENS },
    validationRules: [maxDepthRule(MAX_DEPTH), maxAliasesRule(MAX_ALIASES)],
    // Masked errors are logged with their request's id by operationReportPlugin; the rest (none
    // expected: a failure before the request had a context) here.
    formatError: (formatted, error) =>
      formatGatewayError(formatted, error, (masked) => {
        if (!(typeof masked === 'object' && masked !== null && maskedLogged.has(masked))) logger.error({ err: masked }, 'unexpected error masked as INTERNAL_SERVER_ERROR');
      }),
    plugins: [
      operationResolutionPlugin(),
      costLimitPlugin<GatewayContext>(() => schema, config.server.maxCost, (context) => context.budget),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // Audit data is per caller and never HTTP-cacheable; the plugin only costs time per field.
      ApolloServerPluginCacheControlDisabled(),
      partialErrorsPlugin(),
      operationReportPlugin(maskedLogged),
    ],
  });
  await apollo.start();

  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const server = http.createServer((req, res) => {
    const observed = observability.observe(req, res);
    if (draining) {
      sendJson(res, 503, { errors: [{ message: 'The gateway is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }, { 'retry-after': '5' });
      return;
    }
    inFlight += 1;
    res.on('close', () => {
      inFlight -= 1;
      if (inFlight === 0 && idle) idle();
    });
    handle(req, res, observed).catch((error: unknown) => {
      observed.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  server.headersTimeout = 15_000;
  // Longer than the idle timeout of load balancers (60 s on the common ones) and of clients' pools,
  // so that the gateway is never the side that closes an idle connection a client is about to
  // reuse: that race is an ECONNRESET for the client's request.
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = config.server.requestTimeoutMs + 5_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, observed: ObservedRequest): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    if (observability.cors?.handle(req, res)) return;

    if (url.pathname === '/healthz' && method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz' && method === 'GET') {
      const readiness = readinessOf(sources);
      return sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'unavailable', sources: readiness.sources });
    }
    if (url.pathname === '/metrics' && (method === 'GET' || method === 'HEAD') && observability.onApiPort) {
      // On the API port, metrics take the API's credentials; a port of their own takes none.
      const caller = await authenticator.authenticate(req.headers.authorization);
      if ('failure' in caller) return sendJson(res, 401, graphqlError(caller.failure.message, 'UNAUTHENTICATED'), { 'www-authenticate': caller.failure.challenge });
      observed.principalId = caller.principal.id;
      return observability.serveMetrics(res);
    }
    if (url.pathname.startsWith('/graphiql/') && method === 'GET' && config.server.graphiql) {
      const asset = graphiqlAsset(url.pathname.slice('/graphiql/'.length));
      if (!asset) return sendJson(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': `${asset.type}; charset=utf-8`, 'cache-control': 'public, max-age=86400', 'content-length': asset.body.length });
      res.end(asset.body);
      return;
    }
    if (url.pathname === PUBLIC_KEY_PATH && (method === 'GET' || method === 'HEAD')) return servePublicKey(res, exportService);
    if (url.pathname.startsWith(EXPORTS_PREFIX) && (method === 'GET' || method === 'HEAD')) {
      // The same credentials as /graphql; the archive is served to the principal that started the export only.
      const caller = await authenticator.authenticate(req.headers.authorization);
      if ('failure' in caller) return sendJson(res, 401, graphqlError(caller.failure.message, 'UNAUTHENTICATED'), { 'www-authenticate': caller.failure.challenge });
      observed.principalId = caller.principal.id;
      return serveExportDownload(req, res, exportService, caller.principal.id, url.pathname.slice(EXPORTS_PREFIX.length));
    }
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found; the GraphQL endpoint is /graphql' });

    // A browser opening a link (`/graphql?query=...`) gets GraphiQL with that query filled in;
    // clients that ask for JSON run GET queries as before.
    if (method === 'GET' && prefersHtml(req) && config.server.graphiql) {
      const page = graphiqlPage({ query: url.searchParams.get('query'), variables: url.searchParams.get('variables'), authRequired: config.server.auth?.mode === 'required' });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': GRAPHIQL_CSP, 'x-content-type-options': 'nosniff' });
      res.end(page);
      return;
    }

    const authenticated = await authenticator.authenticate(req.headers.authorization);
    if ('failure' in authenticated) {
      req.resume();
      return sendJson(res, 401, graphqlError(authenticated.failure.message, 'UNAUTHENTICATED'), { 'www-authenticate': authenticated.failure.challenge });
    }
    const { principal } = authenticated;
    observed.principalId = principal.id;
    // Clients are told apart by their key or token where they have one, else by their address.
    const client = principal === ANONYMOUS ? `address:${req.socket.remoteAddress ?? 'unknown'}` : `principal:${principal.id}`;
    // Under overload most requests are shed: before a deadline, its timer and a span are made for them.
    const shed = await admission.refusalAtOnce(client);
    if (shed) return sendRefusal(res, shed.refusal, shed.budget);
    observed.startSpan();
    // The deadline runs from arrival: time spent queued for capacity is part of it, and a request
    // still queued when it passes leaves the queue with a 503 rather than running late.
    const disconnect = new AbortController();
    const deadline = deadlineSignal(disconnect.signal, config.server.requestTimeoutMs);
    const scanUntilMs = Date.now() + Math.floor(config.server.requestTimeoutMs * SCAN_SHARE_OF_DEADLINE);
    // Upstream calls get this signal: the request's logger and span travel with it.
    bindRequestScope(deadline.signal, observed.scope);
    res.on('close', () => {
      if (!res.writableFinished) disconnect.abort();
      deadline.release();
    });
    const admitted = await admission.run(
      client,
      (budget, place) => {
        observed.scope.awaitingUpstream = () => place.awaitingUpstream();
        return execute(req, res, url, method, principal, { signal: deadline.signal, scanUntilMs }, observed, budget);
      },
      deadline.signal,
    );
    if (!admitted.admitted) return sendRefusal(res, admitted.refusal, admitted.budget);
  }

  /** Reads, executes and answers one GraphQL request (admitted by {@link Admission}). */
  async function execute(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    method: string,
    principal: Principal,
    { signal, scanUntilMs }: { signal: AbortSignal; scanUntilMs: number },
    observed: ObservedRequest,
    budget: CallerBudget,
  ): Promise<void> {
    const body = await readBody(req, config.server.maxBodyBytes);
    if (body.kind === 'too-large') {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, graphqlError(`Request body exceeds ${config.server.maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE'), await budget.headers());
    }
    let parsedBody: unknown = body.text;
    if (method === 'POST' && /\bjson\b/i.test(req.headers['content-type'] ?? '')) {
      if (body.text.trim() === '') return sendJson(res, 400, graphqlError('The request body is empty; send a JSON object with a `query`', 'BAD_REQUEST'), await budget.headers());
      try {
        parsedBody = JSON.parse(body.text) as unknown;
      } catch {
        return sendJson(res, 400, graphqlError('The request body is not valid JSON', 'BAD_REQUEST'), await budget.headers());
      }
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const requestId = observed.id;
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: method.toUpperCase(), headers, search: url.search, body: parsedBody },
      context: async () => createContext(contextDeps, requestId, signal, principal, { logger: observed.logger, report: observed, budget, scanUntilMs }),
    });
    // Read once Apollo is done: they then count what this operation spent.
    await writeResponse(res, response, { 'x-request-id': requestId, ...(await budget.headers()) });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? config.server.port, config.server.host, resolve));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let metricsUrl: string | null;
  try {
    metricsUrl = await observability.listenMetrics(options.metricsPort);
  } catch (error) {
    server.close();
    await observability.stop();
    throw error;
  }

  return {
    url: `http://${host}:${address.port}/graphql`,
    port: address.port,
    sources,
    exports: exportService,
    metricsUrl,
    async stop(drainMs = 10_000) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
      }
      server.closeAllConnections();
      await closed;
      await apollo.stop();
      admission.close();
      // Running exports end FAILED (GATEWAY_STOPPED) before their sources close under them.
      await exportService?.stop();
      await sources.close();
      await shared?.store.close();
      await observability.stop();
    },
  };
}

/**
 * The Redis replicas share (`server.cache.redisUrl`), or null without one. Unreachable at start is
 * a config error naming the key and the host, never the password.
 */
async function connectSharedStore(redisUrl: string | null, logger: Logger): Promise<{ store: SharedStore; replicaId: string } | null> {
  if (redisUrl === null) return null;
  let store: SharedStore;
  try {
    store = await SharedStore.connect({ url: redisUrl, logger });
  } catch (error) {
    if (error instanceof SharedStoreUnavailable) throw new ConfigError(`server.cache.redisUrl: ${error.message}; replicas need it to share their state`);
    throw error;
  }
  const replicaId = newReplicaId();
  logger.info({ redis: store.location, replicaId }, 'shared state in Redis: caches, export jobs, rate limits and open circuits are shared with the other replicas');
  return { store, replicaId };
}

/** Each configured source's datasource, built from its vendor module: the one place config meets vendors. */
function registryFromConfig(configs: readonly SourceConfig[], logger: Logger, observer: UpstreamObserver, sharedCircuit?: SharedCircuitState): SourceRegistry {
  return new SourceRegistry(
    configs.map((config) => {
      const module = vendorModules[config.vendor];
      if (!module) throw new Error(`no vendor module for '${config.vendor}'`);
      const health = new SourceHealthTracker();
      const dataSource = module.createDataSource(config, { logger: logger.child({ source: config.id }), health, observer, ...(sharedCircuit ? { sharedCircuit } : {}) });
      return { config, dataSource, health };
    }),
  );
}

function prefersHtml(req: http.IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  const html = accept.indexOf('text/html');
  if (html < 0) return false;
  // Browsers list text/html first; a client that names a JSON type before it wants results.
  const json = accept.search(/application\/(graphql-response\+)?json/);
  return json < 0 || html < json;
}

function graphqlError(message: string, code: string): unknown {
  return { errors: [{ message, extensions: { code } }] };
}

/** A request {@link Admission} refused: 429 or 503 with Retry-After, and where the caller stands. */
async function sendRefusal(res: http.ServerResponse, refusal: Refusal, budget: CallerBudget): Promise<void> {
  const { status, code, message, retryAfterSeconds } = refusal;
  sendJson(res, status, graphqlError(message, code), { 'retry-after': String(retryAfterSeconds), ...(await budget.headers()) });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Reads the body up to `maxBytes`. Past the limit it stops buffering but does not destroy the
 * stream, so that the 413 can still be written (with `connection: close`).
 */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<{ kind: 'ok'; text: string } | { kind: 'too-large' }> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      req.resume();
      resolve({ kind: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        resolve({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) resolve({ kind: 'ok', text: Buffer.concat(chunks, size).toString('utf8') });
    });
    req.on('error', reject);
  });
}

async function writeResponse(res: http.ServerResponse, response: HTTPGraphQLResponse, ownHeaders: Record<string, string>): Promise<void> {
  const headers: Record<string, string> = { ...ownHeaders };
  for (const [key, value] of response.headers) headers[key] = value;
  res.writeHead(response.status ?? 200, headers);
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
