#!/usr/bin/env node
import fs from 'node:fs';
import { verifyExport, type VerifyResult } from './verify';

/**
 * `audit-gateway verify-export FILE [--public-key FILE]`: checks an evidence bundle offline and
 * exits 0 when it is intact, 1 when a file differs from what was signed (naming the first file
 * and line), 2 when the input cannot be used. Runs compiled, from dist/, with nothing of the
 * gateway loaded but the bundle format.
 */
const USAGE = 'usage: audit-gateway verify-export FILE|DIR [--public-key PEM_FILE]';

export async function main(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'verify-export') {
    err(USAGE);
    return 2;
  }
  let target: string | undefined;
  let keyFile: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    if (arg === '--public-key') keyFile = rest[++i];
    else if (arg.startsWith('--public-key=')) keyFile = arg.slice('--public-key='.length);
    else if (target === undefined && !arg.startsWith('--')) target = arg;
    else {
      err(`unexpected argument '${arg}'\n${USAGE}`);
      return 2;
    }
  }
  if (target === undefined || (keyFile === undefined && rest.includes('--public-key'))) {
    err(USAGE);
    return 2;
  }
  let publicKeyPem: string | null = null;
  if (keyFile !== undefined) {
    try {
      publicKeyPem = fs.readFileSync(keyFile, 'utf8');
    } catch (error) {
      err(`UNUSABLE: cannot read the public key '${keyFile}': ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      return 2;
    }
  }
  const result = await verifyExport(target, { publicKeyPem });
  return report(result, out, err);
}

function report(result: VerifyResult, out: (line: string) => void, err: (line: string) => void): number {
  switch (result.status) {
    case 'ok': {
      out(`OK ${result.events} events, export ${result.exportId}, final chain hash ${result.finalChainHash}, signed by key ${result.keyId}`);
      if (result.keyFromManifest) out('note: the key was taken from the manifest itself; pass --public-key with the gateway\'s key to prove who signed it');
      if (!result.complete) out(`note: the manifest marks source(s) ${result.incompleteSources.join(', ')} INCOMPLETE: the bundle is intact but lacks some of their events`);
      return 0;
    }
    case 'tampered':
      out(`TAMPERED ${result.file}${result.line === null ? '' : `:${result.line}`}: ${result.problem}`);
      return 1;
    case 'unusable':
      err(`UNUSABLE: ${result.problem}`);
      return 2;
  }
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  ).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`UNUSABLE: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
