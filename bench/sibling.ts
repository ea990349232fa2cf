import path from 'node:path';

/**
 * The benchmark runs compiled (`npm run bench` builds dist/ first) or from source with tsx; its
 * child processes are forked the same way as the process forking them.
 */
const compiled = path.extname(__filename) === '.js';

export function siblingScript(name: string): string {
  return path.join(__dirname, `${name}${compiled ? '.js' : '.ts'}`);
}

export function siblingExecArgv(): string[] {
  return compiled ? [] : ['--import', 'tsx'];
}
