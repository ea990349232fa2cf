import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/**
 * The gateway's version, from its package.json (found by walking up from this file, which
 * works from src/ and from dist/), for manifests: which gateway wrote a bundle.
 */
export function gatewayVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === 'audit-gateway' && typeof parsed.version === 'string') {
        cached = parsed.version;
        break;
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  return cached;
}
