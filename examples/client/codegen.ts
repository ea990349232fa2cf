import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Types for the operations in `src/` from the gateway's published schema (`npm run schema` keeps
 * `schema.graphql` current). Run from this directory: `npx graphql-codegen --config codegen.ts`.
 */
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as typed strings: a plain fetch posts them as they are, no GraphQL AST at run time.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        // Every custom scalar must be named here, so that a new one in the schema fails codegen instead of becoming `any`.
        strictScalars: true,
        scalars: {
          DateTime: 'string',
          Date: 'string',
          JSON: 'unknown',
          JSONObject: 'Record<string, unknown>',
          EmailAddress: 'string',
          IP: 'string',
          URL: 'string',
          PositiveInt: 'number',
          NonNegativeInt: 'number',
        },
      },
    },
  },
};

export default config;
