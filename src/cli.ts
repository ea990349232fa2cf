import { parseArgs } from 'node:util';
import type { RuntimeSettings } from './config';
import { gatewayVersion } from './export/version';

/**
 * The `audit-gateway` command line, behind both `npm start` (`node dist/src/index.js`) and the
 * package's bin: one parser, so the two never disagree on what an option means. Everything but
 * the parsing is loaded when its command runs, so `--help`, `--version` and `verify-export` start
 * without loading the server, and the verifier stays as independent of the gateway as its layer
 * rule asks.
 */
export const USAGE = `usage: audit-gateway [--config FILE]                 serve (without a config: demo mode over simulated sources)
       audit-gateway --check-config [--config FILE]  validate a config and show what it resolves to
       audit-gateway verify-export FILE|DIR [--public-key PEM_FILE]
       audit-gateway --help | --version

options:
  -c, --config FILE   the YAML config; default $AUDIT_GATEWAY_CONFIG, and without either, demo mode
      --check-config  load the config as start-up does, print its sources and server settings
                      (credential keys named as set or not, never a value) and exit 0, or print
                      the error, naming the key, and exit 2
  -h, --help          this text
  -v, --version       the gateway's version

verify-export checks an evidence export offline: exit 0 intact, 1 tampered (naming the first
file and line that differ), 2 unusable input.

environment: AUDIT_GATEWAY_CONFIG (the config file, as --config), PORT, HOST and LOG_LEVEL (over
the file), NODE_ENV (production unless set). Exit codes: 0 done (or stopped by SIGINT/SIGTERM
after draining), 1 failed to start, 2 bad usage or an invalid config.`;

const VERIFY_USAGE = `usage: audit-gateway verify-export FILE|DIR [--public-key PEM_FILE]

Checks an evidence export (the zip, or the directory it was extracted into) offline: every file's
SHA-256, the hash chain line by line, the counts and the manifest's Ed25519 signature. Without
--public-key the key in the manifest is used, which proves integrity but not who signed it.
Exit codes: 0 intact, 1 tampered (naming the first file and line), 2 unusable input.`;

/** What the arguments ask for. */
export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'verify-export'; args: string[] }
  | { kind: 'check-config'; configPath: string | undefined }
  | { kind: 'serve'; configPath: string | undefined }
  | { kind: 'usage-error'; message: string };

/** Where a command writes, and the environment it reads. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'check-config': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** The gateway's own options and positionals, or util.parseArgs's complaint about them. */
function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    return { error: parseErrorMessage(error) };
  }
}

/** Reads the arguments (without `node` and the script); never throws. */
export function parseCommand(argv: readonly string[]): CliCommand {
  // The verifier keeps its own options (`--public-key`), which mean nothing to the gateway.
  if (argv[0] === 'verify-export') return { kind: 'verify-export', args: argv.slice(1) };
  const parsed = parseOptions(argv);
  if ('error' in parsed) return { kind: 'usage-error', message: parsed.error };
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const first = positionals[0];
  if (first !== undefined) {
    return {
      kind: 'usage-error',
      message: first === 'verify-export' ? 'verify-export must be the first argument: audit-gateway verify-export FILE' : `unknown command '${first}'`,
    };
  }
  if (values.config === '') return { kind: 'usage-error', message: '--config needs a file path' };
  return { kind: values['check-config'] ? 'check-config' : 'serve', configPath: values.config };
}

/** util.parseArgs's errors, said shortly and without its advice on positionals. */
function parseErrorMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(?:-[A-Za-z], )?(-[^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option '${option ?? message}'`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // A string option without its value, or a value given to a flag (`--help=yes`).
    if (/--config/.test(message)) return '--config needs a file path';
    return `option '${option ?? message}' takes no value`;
  }
  return message;
}

/**
 * Runs the command the arguments ask for. Answers the exit code, or `serving` once the gateway
 * listens (it then exits by itself on SIGTERM or SIGINT).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number | 'serving'> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'version':
      io.out(gatewayVersion());
      return 0;
    case 'usage-error':
      io.err(`audit-gateway: ${command.message}`);
      io.err("run 'audit-gateway --help' for the options");
      return 2;
    case 'verify-export': {
      if (command.args.includes('--help') || command.args.includes('-h')) {
        io.out(VERIFY_USAGE);
        return 0;
      }
      const verifier = await import('./export/cli');
      return verifier.main(['verify-export', ...command.args], io.out, io.err);
    }
    case 'check-config': {
      const settings = await settingsFor(command.configPath, io);
      if (settings === null) return 2;
      if (!settings.configPath) {
        io.err('audit-gateway: --check-config needs a config: --config FILE or AUDIT_GATEWAY_CONFIG (without one, the gateway serves demo mode)');
        return 2;
      }
      const { configErrorMessage, describeConfig, loadStartupConfig } = await import('./startup-config');
      try {
        const config = loadStartupConfig({ ...settings, configPath: settings.configPath });
        for (const line of describeConfig(config, settings.configPath)) io.out(line);
        return 0;
      } catch (error) {
        io.err(`audit-gateway: invalid configuration: ${configErrorMessage(error)}`);
        return 2;
      }
    }
    case 'serve': {
      const settings = await settingsFor(command.configPath, io);
      if (settings === null) return 2;
      const { serve } = await import('./serve');
      return serve(settings, io.err);
    }
  }
}

/** `--config` over `AUDIT_GATEWAY_CONFIG`, and the environment's PORT, HOST and LOG_LEVEL; null after saying what is wrong. */
async function settingsFor(configPath: string | undefined, io: CliIo): Promise<RuntimeSettings | null> {
  const { ConfigError, readRuntimeSettings } = await import('./config');
  try {
    return readRuntimeSettings(configPath === undefined ? [] : ['--config', configPath], io.env);
  } catch (error) {
    io.err(`audit-gateway: invalid configuration: ${error instanceof ConfigError ? error.message : String(error)}`);
    return null;
  }
}
