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

/**
 * Placeholder for the headers tab of a gateway with authentication: GraphiQL's headers are JSON,
 * so the hint is a value to replace rather than a comment. Sent as it is, it gets a 401 that
 * says the credential is not valid, which points at the same place.
 */
export const AUTH_HEADERS_HINT = '{\n  "Authorization": "Bearer <your API key or JWT>"\n}';

// Kept out of the HTML so that the page runs under a CSP without 'unsafe-inline' scripts; what
// differs between pages (a linked query, the auth hint) comes from the JSON block of the page,
// which is data, not script, and so needs no CSP exception.
const INIT_SCRIPT = `(function () {
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname, headers: { 'apollo-require-preflight': 'true' } });
  var props = {
    fetcher: fetcher,
    defaultQuery: ${JSON.stringify(DEFAULT_QUERY)},
    defaultEditorToolsVisibility: config.authHeaders !== null ? 'headers' : config.variables !== null ? 'variables' : true
  };
  // GraphiQL opens a given query in a tab of its own (or the tab already holding it), next to
  // the tabs it kept in this browser.
  if (config.query !== null) props.query = config.query;
  if (config.variables !== null) props.variables = config.variables;
  if (config.authHeaders !== null) props.defaultHeaders = config.authHeaders;
  var footer = config.authHeaders === null ? null : React.createElement(
    GraphiQL.Footer,
    null,
    React.createElement('div', { className: 'audit-gateway-auth-hint', style: { padding: '4px 8px', fontSize: '12px' } },
      'This gateway requires authentication: set "Authorization": "Bearer <your API key or JWT>" in the Headers tab below the query.')
  );
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, props, footer));
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
__CONFIG__
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/graphiql/init.js"></script>
</body>
</html>
`;

export const GRAPHIQL_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** What a GraphiQL page opens with. */
export interface GraphiqlPageOptions {
  /** A query to open (`?query=` of a link), or null for the tabs GraphiQL kept in the browser, or the example. */
  query?: string | null;
  /** Its variables as JSON text (`?variables=`). */
  variables?: string | null;
  /** True when the gateway requires a credential: the headers tab opens with an Authorization placeholder and the page says why. */
  authRequired?: boolean;
}

/** The GraphiQL page. */
export function graphiqlPage(options: GraphiqlPageOptions = {}): string {
  const config = {
    query: options.query ?? null,
    variables: options.variables ?? null,
    authHeaders: options.authRequired ? AUTH_HEADERS_HINT : null,
  };
  const block = `<script type="application/json" id="graphiql-config">${jsonForScriptElement(config)}</script>`;
  // A function replacement, so that `$` sequences in the query are not replacement patterns.
  return PAGE.replace('__CONFIG__', () => block);
}

/**
 * JSON safe inside a `<script>` element: the text of a link's query is the caller's, and
 * `</script>` or `<!--` in it must not end the element or change how the parser reads it. JSON's
 * `\u` escapes keep every character's value, so `JSON.parse` of the element's text gives it back.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
