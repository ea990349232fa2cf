import fs from 'node:fs';
import path from 'node:path';

/** The directory of the SDL files: `schema/` at the project root, run from source or from dist/. */
export const SCHEMA_DIR = path.join(projectRoot(__dirname), 'schema');

function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The SDL of `schema/*.graphql`, in file-name order. */
export function loadTypeDefs(dir: string = SCHEMA_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => fs.readFileSync(path.join(dir, file), 'utf8'));
}
