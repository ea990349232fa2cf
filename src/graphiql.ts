import fs from 'node:fs';
import path from 'node:path';

/**
 * GraphiQL served from the packages installed with the gateway (graphiql's UMD build with React
 * 18), so a browser loads nothing from a CDN and GraphiQL works offline.
 */
const ASSETS: Record<string, { module: string; file: string; type: string }> = {
  'react.production.min.js': { module: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.production.min.js': { module: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.min.js': { module: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.min.css': { module: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

const DEFAULT_QUERY = `# Audit Gateway: audit logs of every configured SaaS source, in one schema.
query NewestEvents {
  auditEvents(first: 10) {
    edges {
      cursor
      node {
        occurredAt
        source { sourceId vendor }
        action
        category
        actor { type name email }
        target { type name }
      }
    }
    pageInfo { hasNextPage endCursor }
    asOf
  }
}
`;

// Kept out of the HTML so that the page runs under a CSP without 'unsafe-inline' scripts.
const INIT_SCRIPT = `(function () {
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname, headers: { 'apollo-require-preflight': 'true' } });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: ${JSON.stringify(DEFAULT_QUERY)}, defaultEditorToolsVisibility: true }));
})();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audit Gateway · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/graphiql/init.js"></script>
</body>
</html>
`;

export const GRAPHIQL_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** The GraphiQL page. */
export function graphiqlPage(): string {
  return PAGE;
}

const cache = new Map<string, { body: Buffer; type: string }>();

/** A GraphiQL asset by file name (`/graphiql/<name>`), or null. */
export function graphiqlAsset(name: string): { body: Buffer; type: string } | null {
  if (name === 'init.js') return { body: Buffer.from(INIT_SCRIPT), type: 'text/javascript' };
  const asset = ASSETS[name];
  if (!asset) return null;
  let hit = cache.get(name);
  if (!hit) {
    const packageDir = path.dirname(require.resolve(`${asset.module}/package.json`));
    hit = { body: fs.readFileSync(path.join(packageDir, asset.file)), type: asset.type };
    cache.set(name, hit);
  }
  return hit;
}
