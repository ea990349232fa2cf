import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * What the soak scenario of bench/loadtest.ts reads of the gateway process besides its RSS: the
 * heap after a full GC (through bench/soak-preload.cjs over IPC) and its established TCP
 * connections to each simulator (from /proc, with no external tool).
 */

/** The preload is plain CommonJS in bench/, loaded as is whether this file runs compiled (dist/bench) or from source. */
export function soakPreloadPath(): string {
  const compiled = path.extname(__filename) === '.js';
  return path.resolve(__dirname, compiled ? path.join('..', '..', 'bench') : '.', 'soak-preload.cjs');
}

/** The gateway's Node flags for the soak: `gc()` exposed to the preload only, which alone calls it. */
export function soakGatewayNodeArgs(): string[] {
  return ['--expose-gc', '--require', soakPreloadPath()];
}

/** The preload's answer to `{type: 'soak-gc', id}`: `process.memoryUsage()` right after a full GC, bytes. */
export interface SoakMemoryReply {
  type: 'soak-memory';
  id: number;
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** How long the forced GC paused the gateway. */
  gcMs: number;
}

let nextId = 1;

/**
 * Asks the gateway's preload for a full GC and its memory after it; null when no answer comes in
 * time (no preload, no IPC channel, or a gateway that no longer answers), so that a missing
 * figure fails its target rather than hanging the load test.
 */
export function memoryAfterGc(gateway: ChildProcess, timeoutMs = 10_000): Promise<SoakMemoryReply | null> {
  if (!gateway.connected) return Promise.resolve(null);
  const id = nextId++;
  return new Promise((resolve) => {
    const done = (reply: SoakMemoryReply | null) => {
      clearTimeout(timer);
      gateway.off('message', onMessage);
      resolve(reply);
    };
    const onMessage = (message: { type?: string; id?: number }) => {
      if (message.type === 'soak-memory' && message.id === id) done(message as SoakMemoryReply);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    gateway.on('message', onMessage);
    gateway.send({ type: 'soak-gc', id }, (error) => {
      if (error) done(null);
    });
  });
}

/** Inodes of the sockets a process holds: its /proc/<pid>/fd links read `socket:[inode]`. */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed between the listing and the read: not held any more.
    }
  }
  return inodes;
}

/** TCP state ESTABLISHED in /proc/net/tcp's `st` column. */
const ESTABLISHED = '01';

/**
 * Established TCP connections among `inodes` to each of `remotePorts`, from /proc/net/tcp and
 * /proc/net/tcp6. These tables list every socket of the network namespace: the inodes keep the
 * gateway's own ends, and the remote port tells which simulator (the simulators' own ends have
 * the simulator's port as their local port, and are not among the gateway's inodes anyway).
 */
export function establishedTo(inodes: ReadonlySet<string>, remotePorts: Iterable<number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const port of remotePorts) counts.set(port, 0);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // Columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      const inode = fields[9];
      if (remote === undefined || inode === undefined || fields[3] !== ESTABLISHED || !inodes.has(inode)) continue;
      const port = parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16);
      const count = counts.get(port);
      if (count !== undefined) counts.set(port, count + 1);
    }
  }
  return counts;
}
