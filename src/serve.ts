import { checkExposure, ConfigError, describeSources, type GatewayConfig, type RuntimeSettings } from './config';
import { startDemoSources, type DemoSetup } from './demo';
import { createLogger } from './logger';
import { createGateway } from './server';
import { applyOverrides, configErrorMessage, describeAuth, loadStartupConfig } from './startup-config';

/**
 * Serves until SIGTERM or SIGINT, then drains and exits 0. Resolves once the gateway listens;
 * answers 2 when the config cannot be used (the message is on stderr already).
 */
export async function serve(settings: RuntimeSettings, err: (line: string) => void): Promise<'serving' | 2> {
  const logger = createLogger({ level: settings.logLevel });

  let config: GatewayConfig;
  let demo: DemoSetup | null = null;
  if (settings.configPath) {
    try {
      config = loadStartupConfig({ ...settings, configPath: settings.configPath });
    } catch (error) {
      return configFailure(error, err);
    }
    logger.info({ config: settings.configPath, sources: describeSources(config), auth: describeAuth(config) }, 'starting with config file');
  } else {
    const host = settings.host ?? '127.0.0.1';
    try {
      checkExposure({ auth: null, host });
    } catch (error) {
      return configFailure(error, err);
    }
    demo = await startDemoSources({ ...(settings.port !== undefined ? { port: settings.port } : {}), host });
    config = demo.config;
    applyOverrides(config, settings);
    logger.info(
      { sources: describeSources(config), auth: describeAuth(config) },
      'demo mode: no config given (--config FILE or AUDIT_GATEWAY_CONFIG), serving built-in simulated sources on loopback, without authentication (loopback only); cursor secret is random for this process',
    );
  }

  let gateway;
  try {
    gateway = await createGateway(config, { logger });
  } catch (error) {
    // A config that only fails against the world (an unreachable shared Redis) is still a config
    // error: exit 2 like the others, after stopping the demo's simulators.
    if (!(error instanceof ConfigError)) throw error;
    await demo?.stop();
    return configFailure(error, err);
  }
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
  return 'serving';
}

function configFailure(error: unknown, err: (line: string) => void): 2 {
  err(`audit-gateway: invalid configuration: ${configErrorMessage(error)}`);
  return 2;
}
