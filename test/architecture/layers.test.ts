import { cruise } from '../helpers/layers';

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
    ['the HTTP client importing the metrics', 'src/http/probe.ts', "import { metrics } from '../observability/metrics';\nexport const m = metrics;\n", 'observability-watches-from-above', { 'src/observability/metrics.ts': 'export const metrics = 1;\n' }],
    ['a datasource loading the simulator kit', 'src/vendors/acme/probe.ts', "import { kit } from '../../simulation/server';\nexport const k = kit;\n", 'datasources-load-no-simulator', { 'src/simulation/server.ts': 'export const kit = 1;\n' }],
  ])('fail on %s', (_case, file, text, rule, extra) => {
    const result = cruise({ ...ALLOWED, ...extra, [file]: text });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(rule);
  }, 60_000);
});
