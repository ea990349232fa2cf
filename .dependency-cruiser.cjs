/**
 * The layers of the gateway and the imports allowed between them (see ARCHITECTURE.md). Checked
 * by `npm run lint:layers`, which `npm test` runs first; a forbidden import fails the build.
 *
 *   models        vendor-neutral records; import nothing of the gateway
 *   cache, http   infrastructure; know no domain type
 *   sources       the datasource contract and what every datasource shares
 *   connection    the connection engine (plans, merges, cursors); knows nothing of GraphQL
 *   graphql, resolvers, context   the GraphQL layer
 *   vendors/<v>   one vendor each; never another vendor, never the engine or GraphQL
 *   simulation    the simulator kit; loaded only by simulators, tests, demo and benchmarks
 *   observability metrics, request logs, traces, CORS; wired by the composition root
 *   server, index, config, demo   the composition root
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'models-are-leaves',
      comment: 'Vendor-neutral records import nothing of the gateway.',
      severity: 'error',
      from: { path: '^src/models/' },
      to: { path: '^(src|resolvers)/', pathNot: '^src/models/' },
    },
    {
      name: 'infrastructure-knows-no-domain',
      comment: 'The HTTP client and the caches know no domain type: they serve any datasource or engine.',
      severity: 'error',
      from: { path: '^src/(http|cache)/' },
      to: { path: '^(src/(models|sources|connection|graphql|vendors|simulation|generated)|resolvers)/|^src/(context|config|server|demo)\\.ts$' },
    },
    {
      name: 'sources-below-the-engine',
      comment: 'The datasource contract is below the engine, GraphQL, the vendors and the config.',
      severity: 'error',
      from: { path: '^src/sources/' },
      to: { path: '^(src/(connection|graphql|vendors|simulation|generated)|resolvers)/|^src/(context|config|server|demo)\\.ts$' },
    },
    {
      name: 'engine-knows-no-graphql',
      comment: 'The connection engine never sees GraphQL, the request context, a vendor, HTTP or the config.',
      severity: 'error',
      from: { path: '^src/connection/' },
      to: { path: '^(src/(graphql|vendors|simulation|http|generated)|resolvers)/|^src/(context|config|server|demo)\\.ts$' },
    },
    {
      name: 'vendor-stays-in-its-folder',
      comment: 'A vendor folder never imports another vendor.',
      severity: 'error',
      from: { path: '^src/vendors/([^/]+)/' },
      to: { path: '^src/vendors/', pathNot: ['^src/vendors/$1/'] },
    },
    {
      name: 'vendor-below-the-engine',
      comment: 'Vendors implement the datasource contract; they never reach into the engine, GraphQL or the composition root.',
      severity: 'error',
      from: { path: '^src/vendors/' },
      to: { path: '^(src/(connection|graphql|generated)|resolvers)/|^src/(context|config|server|demo)\\.ts$' },
    },
    {
      name: 'datasources-load-no-simulator',
      comment: 'Serving real sources never loads a simulator: only simulator files use the simulation kit.',
      severity: 'error',
      from: { path: '^src/(vendors/[^/]+/(?!simulator)|vendors/index\\.ts|config\\.ts|server\\.ts|index\\.ts$|sources/|connection/|graphql/)' },
      to: { path: '^src/(simulation/|vendors/simulators\\.ts$|vendors/[^/]+/simulator)' },
    },
    {
      name: 'simulation-kit-is-generic',
      comment: 'The simulator kit knows no vendor, engine or GraphQL.',
      severity: 'error',
      from: { path: '^src/simulation/' },
      to: { path: '^(src/(connection|graphql|vendors|sources|generated)|resolvers)/' },
    },
    {
      name: 'resolvers-are-thin',
      comment: 'Resolvers call into src/; they never touch HTTP, caches or a vendor directly.',
      severity: 'error',
      from: { path: '^resolvers/' },
      to: { path: '^src/(http|cache|vendors|simulation)/|^node_modules/(undici|keyv)/' },
    },
    {
      name: 'export-below-graphql',
      comment: 'Evidence exports read through the connection engine and write files; they never see GraphQL, HTTP clients, a vendor or the composition root.',
      severity: 'error',
      from: { path: '^src/export/' },
      to: { path: '^(src/(graphql|vendors|simulation|http|generated)|resolvers)/|^src/(context|config|server|demo|auth|admission|adaptive-concurrency|index)\\.ts$' },
    },
    {
      name: 'export-verifier-stands-alone',
      comment: 'The offline verifier (the `audit-gateway verify-export` bin) and the bundle format it shares with the writer load nothing of the gateway.',
      severity: 'error',
      from: { path: '^src/export/(verify|verify-data|cli|bundle-reader|chain|csv|lines|manifest|signature|event-record)\\.ts$' },
      to: { path: '^(src|resolvers)/', pathNot: '^src/export/(bundle-reader|chain|csv|lines|manifest|signature|event-record|verify|verify-data)\\.ts$|^src/models/(json|canonical-json)\\.ts$' },
    },
    {
      name: 'statistics-and-search-below-graphql',
      comment: 'Statistics and search build on the connection engine and the datasource contract; they never see GraphQL, HTTP clients, a vendor, a simulator or the composition root.',
      severity: 'error',
      from: { path: '^src/(statistics|search)/' },
      to: { path: '^(src/(graphql|vendors|simulation|http|generated|export)|resolvers)/|^src/(context|config|server|demo|auth|admission|adaptive-concurrency|index)\\.ts$' },
    },
    {
      name: 'statistics-and-search-above-the-engine',
      comment: 'The engine, the datasource contract, the vendors and the infrastructure know nothing of statistics or search.',
      severity: 'error',
      from: { path: '^src/(connection|sources|models|cache|http|vendors|export)/' },
      to: { path: '^src/(statistics|search)/' },
    },
    {
      name: 'observability-watches-from-above',
      comment: 'Metrics, request logs, traces and CORS are wired by the composition root; the layers below report through interfaces of their own (UpstreamObserver, RequestScope, OperationReport) and never import them.',
      severity: 'error',
      from: { path: '^(src/(models|http|cache|sources|connection|graphql|vendors|simulation|export|statistics|search|generated)|resolvers)/|^src/context\\.ts$' },
      to: { path: '^src/observability/' },
    },
    {
      name: 'observability-knows-no-vendor',
      comment: 'Observability sees sources through the registry and the upstream client, never a vendor, a simulator or a resolver.',
      severity: 'error',
      from: { path: '^src/observability/' },
      to: { path: '^(src/(vendors|simulation)|resolvers)/' },
    },
    {
      name: 'no-circular',
      comment: 'Cycles make layers meaningless.',
      severity: 'error',
      from: { path: '^(src|resolvers)/' },
      to: { circular: true, viaOnly: { pathNot: '^src/generated/' } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
