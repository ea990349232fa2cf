import fs from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema, type IExecutableSchemaDefinition } from '@graphql-tools/schema';
import { printSchema, type GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../context';

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

/**
 * The executable schema clients see (the SDL of `schema/` with the resolvers). The resolvers come
 * in as an argument: they import this layer, not the other way round.
 */
export function gatewaySchema(resolvers: SchemaResolvers): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
}

/** Every resolver of the schema, as `resolvers/index.ts` exports them, in the form graphql-tools takes. */
export type SchemaResolvers = Exclude<NonNullable<IExecutableSchemaDefinition<GatewayContext>['resolvers']>, readonly unknown[]>;

/** `schema.graphql` at the project root: the SDL artifact clients generate their types from. */
export const SCHEMA_ARTIFACT = path.join(projectRoot(__dirname), 'schema.graphql');

/**
 * The text of {@link SCHEMA_ARTIFACT}: the printed executable schema, so that it shows what
 * introspection shows (descriptions, and the scalars as the resolvers define them).
 */
export function schemaArtifactText(schema: GraphQLSchema): string {
  return `# The schema of Audit Gateway as clients see it, printed by \`npm run schema\` from schema/*.graphql.\n# Do not edit: a test fails when it differs from the schema the gateway serves.\n\n${printSchema(schema)}\n`;
}
