import fs from 'node:fs';
import path from 'node:path';

/** The directory of the SDL files. */
export const SCHEMA_DIR = path.resolve(__dirname, '../../schema');

/** The SDL of `schema/*.graphql`, in file-name order. */
export function loadTypeDefs(dir: string = SCHEMA_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => fs.readFileSync(path.join(dir, file), 'utf8'));
}
