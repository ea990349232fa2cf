import fs from 'node:fs';
import { resolvers } from '../../resolvers';
import { gatewaySchema, SCHEMA_ARTIFACT, schemaArtifactText } from '../../src/graphql/schema';

describe('schema.graphql', () => {
  it('is the schema the gateway serves (after changing schema/, run `npm run schema` and commit the file)', () => {
    const expected = schemaArtifactText(gatewaySchema(resolvers));
    const actual = fs.existsSync(SCHEMA_ARTIFACT) ? fs.readFileSync(SCHEMA_ARTIFACT, 'utf8') : null;
    if (actual === expected) return;
    // The first line that differs, rather than a diff of 1,500 lines.
    const expectedLines = expected.split('\n');
    const actualLines = actual?.split('\n') ?? [];
    const line = expectedLines.findIndex((text, index) => actualLines[index] !== text);
    const where = actual === null ? 'it is missing' : `line ${line + 1} is ${JSON.stringify(actualLines[line] ?? '(end of file)')}, the schema has ${JSON.stringify(expectedLines[line] ?? '(end of file)')}`;
    throw new Error(`schema.graphql is stale (${where}): run \`npm run schema\` and commit schema.graphql`);
  });
});
