import './production-mode';
import { checkExposure, ConfigError, describeSources, loadConfigFile, readRuntimeSettings, type GatewayConfig } from './config';
import { startDemoSources, type DemoSetup } from './demo';
import { createLogger } from './logger';
import { createGateway } from './server';

/** Process entry: load the config (or start demo mode), serve, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let settings;
  try {
    settings = readRuntimeSettings();
  } catch (error) {
    return exitWithConfigError(error);
  }
  const logger = createLogger({ level: settings.logLevel });

  let config: GatewayConfig;
  let demo: DemoSetup | null = null;
  if (settings.configPath) {
    try {
      config = loadConfigFile(settings.configPath, settings.env);
      applyOverrides(config, settings);
      checkExposure(config.server);
    } catch (error) {
      return exitWithConfigError(error);
    }
    logger.info({ config: settings.configPath, sources: describeSources(config), auth: describeAuth(config) }, 'starting with config file');
  } else {
    const host = settings.host ?? '127.0.0.1';
    try {
      checkExposure({ auth: null, host });
    } catch (error) {
      return exitWithConfigError(error);
    }
    demo = await startDemoSources({ ...(settings.port !== undefined ? { port: settings.port } : {}), host });
    config = demo.config;
    applyOverrides(config, settings);
    logger.info(
      { sources: describeSources(config), auth: describeAuth(config) },
      'demo mode: no config given (--config FILE or AUDIT_GATEWAY_CONFIG), serving built-in simulated sources on loopback, without authentication (loopback only); cursor secret is random for this process',
    );
  }

  const gateway = await createGateway(config, { logger });
  logger.info({ url: gateway.url }, `gateway ready at ${gateway.url}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    await gateway.stop();
    await demo?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function applyOverrides(config: GatewayConfig, settings: { port: number | undefined; host: string | undefined }): void {
  if (settings.port !== undefined) config.server.port = settings.port;
  if (settings.host) config.server.host = settings.host;
}

/** How callers are authenticated, for the first log line: never a key. */
function describeAuth(config: GatewayConfig): string {
  const auth = config.server.auth;
  if (auth === null) return 'none (loopback only)';
  if (auth.mode === 'none') return 'none (mode: none)';
  return [auth.apiKeys.length > 0 ? `${auth.apiKeys.length} API key(s)` : null, auth.jwt ? `JWT from ${auth.jwt.issuer}` : null].filter(Boolean).join(' and ');
}

function exitWithConfigError(error: unknown): never {
  const message = error instanceof ConfigError ? error.message : 'unexpected error while reading the config';
  process.stderr.write(`audit-gateway: invalid configuration: ${message}\n`);
  process.exit(2);
}

void main().catch((error: unknown) => {
  process.stderr.write(`audit-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
