import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

/**
 * An upstream that costs almost nothing per request, so that a ratio against it shows the
 * gateway's own cost: it answers each distinct request (path, query and credentials) once from a
 * simulator behind it, then from the stored bytes, serialised once. Only successful answers are
 * stored; everything else goes to the simulator every time.
 */
export interface ReplayUpstream {
  baseUrl: string;
  /** Added before every answer, stored or not: the latency variant of the benchmark. */
  latencyMs: number;
  /** Requests answered, and how many of them reached the simulator. */
  stats: { requests: number; forwarded: number };
  close(): Promise<void>;
}

interface StoredAnswer {
  contentType: string;
  body: Buffer;
}

export async function startReplayUpstream(targetBaseUrl: string): Promise<ReplayUpstream> {
  const stored = new Map<string, StoredAnswer>();
  const replay: ReplayUpstream = {
    baseUrl: '',
    latencyMs: 0,
    stats: { requests: 0, forwarded: 0 },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((incoming, outgoing) => {
    replay.stats.requests += 1;
    const authorization = incoming.headers.authorization ?? '';
    const key = `${incoming.method ?? 'GET'} ${incoming.url ?? '/'} ${authorization}`;
    const answer = async (): Promise<void> => {
      if (replay.latencyMs > 0) await sleep(replay.latencyMs);
      const hit = stored.get(key);
      if (hit) {
        outgoing.writeHead(200, { 'content-type': hit.contentType, 'content-length': hit.body.length });
        outgoing.end(hit.body);
        return;
      }
      replay.stats.forwarded += 1;
      const response = await request(`${targetBaseUrl}${incoming.url ?? '/'}`, {
        method: incoming.method === 'HEAD' ? 'HEAD' : 'GET',
        headers: authorization ? { authorization } : {},
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const contentType = String(response.headers['content-type'] ?? 'application/json');
      if (response.statusCode === 200) stored.set(key, { contentType, body });
      outgoing.writeHead(response.statusCode, { 'content-type': contentType, 'content-length': body.length });
      outgoing.end(body);
    };
    answer().catch(() => {
      outgoing.writeHead(502);
      outgoing.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  replay.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return replay;
}
