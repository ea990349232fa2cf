import { createHash } from 'node:crypto';
import vm from 'node:vm';
import { request } from 'undici';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/** What a browser sends when it follows a link. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

interface Element {
  type: unknown;
  props: Record<string, unknown> | null;
  children: unknown[];
}

/**
 * Loads the page and its init script as a browser would, with React, ReactDOM and GraphiQL
 * replaced by recorders: what GraphiQL is rendered with is what the page opens with.
 */
async function openPage(gatewayUrl: string, search = ''): Promise<{ html: string; element: Element; csp: unknown }> {
  const response = await request(`${gatewayUrl}${search}`, { headers: { accept: BROWSER_ACCEPT } });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  const html = await response.body.text();
  // The HTML parser ends a script element at the first `</script`, whatever the JSON inside says.
  const block = /<script type="application\/json" id="graphiql-config">([\s\S]*?)<\/script/i.exec(html);
  expect(block).not.toBeNull();
  const init = await request(gatewayUrl.replace(/\/graphql$/, '/graphiql/init.js'));
  const script = await init.body.text();
  let rendered: Element | undefined;
  const GraphiQL = Object.assign(function GraphiQL() {}, { createFetcher: () => 'fetcher', Footer: 'GraphiQL.Footer' });
  vm.runInNewContext(script, {
    document: { getElementById: (id: string) => (id === 'graphiql-config' ? { textContent: block![1] } : {}) },
    window: { location: { pathname: '/graphql' } },
    GraphiQL,
    React: { createElement: (type: unknown, props: Record<string, unknown> | null, ...children: unknown[]) => ({ type, props, children }) },
    ReactDOM: { createRoot: () => ({ render: (element: Element) => (rendered = element) }) },
  });
  expect(rendered?.type).toBe(GraphiQL);
  return { html, element: rendered!, csp: response.headers['content-security-policy'] };
}

describe('GraphiQL links', () => {
  let open: TestGateway;
  let secured: TestGateway;

  beforeAll(async () => {
    open = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 20 }]);
    secured = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 20 }], {
      auth: { mode: 'required', apiKeys: [{ id: 'ops', sha256: createHash('sha256').update('a key').digest('hex'), sources: '*' }], jwt: null },
    });
  }, 60_000);
  afterAll(async () => {
    await open?.close();
    await secured?.close();
  });

  it('opens with the query and variables of a ?query= link', async () => {
    const query = 'query Recent($n: Int) { auditEvents(first: $n) { nodes { action } } }';
    const variables = '{"n": 3}';
    const { element } = await openPage(open.gateway.url, `?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(variables)}`);
    expect(element.props).toMatchObject({ query, variables, defaultEditorToolsVisibility: 'variables' });
    expect(element.props).not.toHaveProperty('defaultHeaders');
    expect(element.children).toEqual([null]);
  });

  it('opens with the example query and no auth hint without a link or authentication', async () => {
    const { element, html } = await openPage(open.gateway.url);
    expect(element.props).not.toHaveProperty('query');
    expect(element.props?.['defaultQuery']).toContain('auditEvents');
    expect(element.props?.['defaultEditorToolsVisibility']).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('keeps a query that contains </script> inside its data block', async () => {
    const query = '{ auditEvents(filter: { text: "</script><script>alert(1)</script><!-- & \u2028" }) { nodes { action } } }';
    const { element, html, csp } = await openPage(open.gateway.url, `?query=${encodeURIComponent(query)}`);
    expect(element.props?.['query']).toBe(query);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<!--');
    expect(html.match(/<\/script>/g)).toHaveLength(5);
    // No inline script runs under the page's policy, whatever a link carries.
    expect(csp).toMatch(/script-src 'self';/);
  });

  it('with authentication, opens the headers tab with an Authorization placeholder and says so on the page', async () => {
    const { element } = await openPage(secured.gateway.url, `?query=${encodeURIComponent('{ sources { sourceId } }')}`);
    expect(element.props).toMatchObject({ query: '{ sources { sourceId } }', defaultEditorToolsVisibility: 'headers' });
    expect(JSON.parse(String(element.props?.['defaultHeaders']))).toEqual({ Authorization: 'Bearer <your API key or JWT>' });
    const footer = element.children[0] as Element;
    expect(footer.type).toBe('GraphiQL.Footer');
    expect(JSON.stringify(footer.children)).toContain('Authorization');
  });

  it('still runs a GET query for a client that asks for JSON', async () => {
    const response = await request(`${open.gateway.url}?query=${encodeURIComponent('{ sources { sourceId } }')}`, {
      headers: { accept: 'application/graphql-response+json, application/json, text/html;q=0.1', 'apollo-require-preflight': 'true' },
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ data: { sources: [{ sourceId: 'nirvana-main' }] } });
  });
});
