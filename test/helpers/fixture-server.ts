import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fixture server received. */
export interface FixtureRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the fixture server answers; `json` is sent as given (no envelope is added). */
export interface FixtureResponse {
  status?: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/** A loopback HTTP server that answers with fixed payloads (e.g. built from a vendor's published examples). */
export interface FixtureServer {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** Every request received, in order. */
  requests: FixtureRequest[];
  close(): Promise<void>;
}

/**
 * Starts a server on a free loopback port that answers each request with `respond(request)`.
 * For tests that run a datasource over real HTTP against payloads this project did not generate:
 * a vendor's own schemas and examples, not our simulators.
 */
export async function startFixtureServer(respond: (request: FixtureRequest) => FixtureResponse): Promise<FixtureServer> {
  const requests: FixtureRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fixture');
      const request: FixtureRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      const { status = 200, json = {}, headers = {} } = respond(request);
      const text = JSON.stringify(json);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
