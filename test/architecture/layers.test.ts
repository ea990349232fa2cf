import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

/** Runs the layer rules of `npm run lint:layers` over a small tree of files. */
function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  try {
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'es2022', strict: true } }));
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const run = spawnSync(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ALLOWED = {
  'src/models/audit-event.ts': 'export interface AuditEventModel { id: string }\n',
  'src/sources/data-source.ts': "import type { AuditEventModel } from '../models/audit-event';\nexport type Events = AuditEventModel[];\n",
  'src/connection/merge.ts': "import type { Events } from '../sources/data-source';\nexport const merged: Events = [];\n",
  'src/vendors/acme/datasource.ts': "import type { Events } from '../../sources/data-source';\nexport const listed: Events = [];\n",
};

describe('the layer rules (npm run lint:layers)', () => {
  it('pass a tree whose imports go down the layers', () => {
    expect(cruise(ALLOWED)).toMatchObject({ status: 0 });
  }, 60_000);

  it.each([
    ['the engine importing the GraphQL request context', 'src/connection/probe.ts', "import { context } from '../context';\nexport const c = context;\n", 'engine-knows-no-graphql', { 'src/context.ts': 'export const context = 1;\n' }],
    ['a vendor importing another vendor', 'src/vendors/acme/probe.ts', "import { other } from '../other/normalize';\nexport const o = other;\n", 'vendor-stays-in-its-folder', { 'src/vendors/other/normalize.ts': 'export const other = 1;\n' }],
    ['the HTTP client importing a domain model', 'src/http/probe.ts', "import type { AuditEventModel } from '../models/audit-event';\nexport type M = AuditEventModel;\n", 'infrastructure-knows-no-domain', {}],
    ['a datasource loading the simulator kit', 'src/vendors/acme/probe.ts', "import { kit } from '../../simulation/server';\nexport const k = kit;\n", 'datasources-load-no-simulator', { 'src/simulation/server.ts': 'export const kit = 1;\n' }],
  ])('fail on %s', (_case, file, text, rule, extra) => {
    const result = cruise({ ...ALLOWED, ...extra, [file]: text });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(rule);
  }, 60_000);
});
