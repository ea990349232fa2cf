#!/usr/bin/env node
import './production-mode';
import { runCli } from './cli';

/**
 * Process entry of `npm start` and of the `audit-gateway` bin: serve (demo mode without a
 * config), `--check-config`, `verify-export`, `--help`, `--version` (see `src/cli.ts`).
 */
runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
}).then(
  (outcome) => {
    // A command is done: exit now rather than when the event loop drains, which a module that
    // keeps a timer could delay. Writes to files and pipes are synchronous here, so nothing is lost.
    if (outcome !== 'serving') process.exit(outcome);
  },
  (error: unknown) => {
    process.stderr.write(`audit-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
