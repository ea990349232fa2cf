import './production-mode';
import { ConfigError, describeSources, loadConfigFile, readRuntimeSettings, type GatewayConfig } from './config';
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
    } catch (error) {
      return exitWithConfigError(error);
    }
    logger.info({ config: settings.configPath, sources: describeSources(config) }, 'starting with config file');
  } else {
    demo = await startDemoSources({ ...(settings.port !== undefined ? { port: settings.port } : {}), ...(settings.host ? { host: settings.host } : {}) });
    config = demo.config;
    logger.info(
      { sources: describeSources(config) },
      'demo mode: no config given (--config FILE or AUDIT_GATEWAY_CONFIG), serving built-in simulated sources on loopback; cursor secret is random for this process',
    );
  }
  if (settings.port !== undefined) config.server.port = settings.port;
  if (settings.host) config.server.host = settings.host;

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

function exitWithConfigError(error: unknown): never {
  const message = error instanceof ConfigError ? error.message : 'unexpected error while reading the config';
  process.stderr.write(`audit-gateway: invalid configuration: ${message}\n`);
  process.exit(2);
}

void main().catch((error: unknown) => {
  process.stderr.write(`audit-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
