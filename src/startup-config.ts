import { z } from 'zod';
import { checkExposure, ConfigError, loadConfigFile, type GatewayConfig, type RuntimeSettings } from './config';
import { vendorModules } from './vendors';

/**
 * The config `npm start` would serve with: the file, `PORT`/`HOST` applied over it, and the
 * exposure rule checked. `--check-config` and start-up share it, so a config that passes the
 * check is the config the gateway starts with. Throws `ConfigError`.
 */
export function loadStartupConfig(settings: RuntimeSettings & { configPath: string }): GatewayConfig {
  const config = loadConfigFile(settings.configPath, settings.env);
  applyOverrides(config, settings);
  checkExposure(config.server);
  return config;
}

/** A config error's message, which names the key path and never a secret; anything else stays unnamed. */
export function configErrorMessage(error: unknown): string {
  return error instanceof ConfigError ? error.message : 'unexpected error while reading the config';
}

/** `PORT` and `HOST` win over the file, as in every deployment that sets them per container. */
export function applyOverrides(config: GatewayConfig, settings: Pick<RuntimeSettings, 'port' | 'host'>): void {
  if (settings.port !== undefined) config.server.port = settings.port;
  if (settings.host) config.server.host = settings.host;
}

/** How callers are authenticated, for the first log line and `--check-config`: never a key. */
export function describeAuth(config: GatewayConfig): string {
  const auth = config.server.auth;
  if (auth === null) return 'none (loopback only)';
  if (auth.mode === 'none') return 'none (mode: none)';
  return [
    auth.apiKeys.length > 0 ? `${auth.apiKeys.length} API key(s) (${auth.apiKeys.map((key) => key.id).join(', ')})` : null,
    auth.jwt ? `JWT from ${auth.jwt.issuer} for ${auth.jwt.audience}` : null,
  ]
    .filter(Boolean)
    .join(' and ');
}

/**
 * What `--check-config` prints: everything an operator needs to see that the right sources and
 * server settings were read, and nothing that is a secret. Credential keys are named with
 * whether they are set, never with their values; API keys by id; the cursor secret by presence.
 */
export function describeConfig(config: GatewayConfig, configPath: string): string[] {
  const { server } = config;
  const lines = [
    `config OK: ${configPath}`,
    'server:',
    `  listen: ${server.host}:${server.port}`,
    `  auth: ${server.auth?.mode === 'required' ? 'required: ' : ''}${describeAuth(config)}`,
    `  cursorSecret: set${server.previousCursorSecrets.length > 0 ? `, ${server.previousCursorSecrets.length} previous secret(s)` : ''}`,
    `  introspection: ${onOff(server.introspection)}, graphiql: ${onOff(server.graphiql)}`,
    `  exports: ${server.exports === null ? 'off' : `on, in ${server.exports.dir}`}`,
    `  metrics: ${server.metrics.enabled ? (server.metrics.port === null ? 'on, at /metrics of the API port' : `on, port ${server.metrics.port}`) : 'off'}`,
    `  cors: ${server.cors === null ? 'off' : server.cors.origins.join(', ')}`,
    // The URL may carry a password: only whether replicas share a Redis.
    `  shared cache: ${server.cache.redisUrl === null ? 'none (in process)' : 'Redis (server.cache.redisUrl set)'}`,
    `  subgraph: ${onOff(server.subgraph)}`,
    `sources (${config.sources.length}):`,
  ];
  for (const source of config.sources) {
    lines.push(`  ${source.id}: vendor ${source.vendor}, baseUrl ${source.baseUrl}${source.allowPrivateNetwork ? ' (private network allowed)' : ''}`);
    lines.push(`    credentials: ${credentialKeys(source).map(({ key, set }) => `${key} ${set ? 'set' : 'not set'}`).join(', ') || 'none'}`);
  }
  return lines;
}

function onOff(value: boolean): string {
  return value ? 'on' : 'off';
}

/** The vendor's credential keys of a source, each with whether the config sets it. */
function credentialKeys(source: GatewayConfig['sources'][number]): Array<{ key: string; set: boolean }> {
  const schema = vendorModules[source.vendor]?.credentialsSchema;
  // Every vendor declares its credentials as an object schema; its shape lists optional keys
  // too, so an operator also sees which optional credential is missing.
  const keys = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  return keys.map((key) => ({ key, set: source[key] !== undefined && source[key] !== '' }));
}
