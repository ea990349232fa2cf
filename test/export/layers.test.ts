import { cruise } from '../helpers/layers';

const ALLOWED = {
  'src/models/json.ts': 'export type JsonValue = string | number;\n',
  'src/connection/merge.ts': 'export const merge = 1;\n',
  'src/models/canonical-json.ts': "import type { JsonValue } from './json';\nexport const canonical = (value: JsonValue) => String(value);\n",
  'src/export/chain.ts': "import { canonical } from '../models/canonical-json';\nexport const chain = canonical;\n",
  'src/export/verify.ts': "import { chain } from './chain';\nexport const verify = chain;\n",
  'src/export/runner.ts': "import { merge } from '../connection/merge';\nimport { chain } from './chain';\nexport const run = [merge, chain];\n",
};

describe('the layer rules of evidence exports', () => {
  it('pass exports that read through the engine and a verifier that loads only the bundle format', () => {
    expect(cruise(ALLOWED)).toMatchObject({ status: 0 });
  }, 60_000);

  it.each([
    ['an export module importing the GraphQL context', 'src/export/probe.ts', "import { context } from '../context';\nexport const c = context;\n", 'export-below-graphql', { 'src/context.ts': 'export const context = 1;\n' }],
    ['the offline verifier importing the connection engine', 'src/export/verify.ts', "import { merge } from '../connection/merge';\nexport const verify = merge;\n", 'export-verifier-stands-alone', {}],
    ['the offline verifier importing the export runner', 'src/export/cli.ts', "import { run } from './runner';\nexport const cli = run;\n", 'export-verifier-stands-alone', {}],
  ])('fail on %s', (_case, file, text, rule, extra) => {
    const result = cruise({ ...ALLOWED, ...extra, [file]: text });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(rule);
  }, 60_000);
});
