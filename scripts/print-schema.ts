/**
 * `npm run schema`: writes `schema.graphql`, the SDL clients generate their types from (see
 * `examples/client/`). Run it after changing `schema/`; `test/client/schema-artifact.test.ts`
 * fails while the file differs from the schema the gateway serves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolvers } from '../resolvers';
import { gatewaySchema, SCHEMA_ARTIFACT, schemaArtifactText } from '../src/graphql/schema';

const text = schemaArtifactText(gatewaySchema(resolvers));
const unchanged = fs.existsSync(SCHEMA_ARTIFACT) && fs.readFileSync(SCHEMA_ARTIFACT, 'utf8') === text;
if (!unchanged) fs.writeFileSync(SCHEMA_ARTIFACT, text);
console.log(`${path.relative(process.cwd(), SCHEMA_ARTIFACT)}: ${unchanged ? 'up to date' : 'written'}`);
