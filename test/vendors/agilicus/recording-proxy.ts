import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP proxy in front of a simulator that keeps the URL of every request it forwards. */
export interface RecordingProxy {
  baseUrl: string;
  /** Requests forwarded so far, oldest first, with the proxy's base. */
  readonly requests: URL[];
  /** The query parameter `name` of every request to `path`, in order (null where it was not sent). */
  paramsOf(path: string, name: string): (string | null)[];
  stop(): Promise<void>;
}

/**
 * Starts a proxy that forwards every request to `targetBaseUrl` unchanged and records its URL:
 * what the simulator's counters cannot show, which parameters a datasource sent where.
 */
export async function startRecordingProxy(targetBaseUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetBaseUrl);
  const requests: URL[] = [];
  const server = http.createServer((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://proxy'));
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    paramsOf: (path, name) => requests.filter((url) => url.pathname === path).map((url) => url.searchParams.get(name)),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
