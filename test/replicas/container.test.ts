import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

/** Every file under `dir` ending in `.js`. */
function scripts(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return scripts(file);
    return entry.name.endsWith('.js') ? [file] : [];
  });
}

/** `lodash/fp` → `lodash`, `@scope/pkg/sub` → `@scope/pkg`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('the container image', () => {
  it('needs at run time only packages that `npm ci --omit=dev` installs', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const required = new Map<string, string>();
    // Compiled by `npm test` (tsc -p tsconfig.build.json) before jest runs: what the image runs.
    for (const file of scripts(path.join(ROOT, 'dist/src'))) {
      // Static imports compile to require("…"), dynamic ones (loaded only when configured) to require('…').
      for (const match of fs.readFileSync(file, 'utf8').matchAll(/\brequire\((["'])([^"']+)\1\)/g)) {
        const specifier = match[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        required.set(packageOf(specifier), path.relative(ROOT, file));
      }
    }
    expect(required.size).toBeGreaterThan(5);
    const missing = [...required].filter(([name]) => !(name in manifest.dependencies)).map(([name, file]) => `${name} (required by ${file})`);
    expect(missing).toEqual([]);
    expect(required.has('@keyv/redis')).toBe(true);
  });

  it('builds in one stage and runs as a non-root user on production dependencies, with a health check', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const [build, runtime] = dockerfile.split(/^FROM /m).slice(1);
    // The build stage installs dev dependencies (codegen, tsc) and builds; the runtime stage only production ones.
    expect(build).toMatch(/RUN npm ci(?! --omit)/);
    expect(build).toMatch(/RUN npm run build/);
    expect(runtime).toMatch(/^node:20-slim/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=\S+ \/app\/dist/);
    expect(runtime).toMatch(/^USER (?!root)/m);
    expect(dockerfile).toMatch(/NODE_ENV=production/);
    expect(dockerfile).toMatch(/^HEALTHCHECK [^\n]*\\\n\s*CMD [^\n]*\/healthz/m);
    expect(dockerfile).toMatch(/^EXPOSE \d+/m);
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());
    for (const entry of ['node_modules', 'dist', '.git']) expect(ignored).toContain(entry);
  });

  it('composes Redis and two replicas that share the exports volume, a config file and secrets from the environment', () => {
    const compose = parse(fs.readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, { image?: string; build?: unknown; volumes?: string[]; environment?: Record<string, string> }> };
    const replicas = Object.values(compose.services).filter((service) => service.build !== undefined);
    expect(replicas).toHaveLength(2);
    expect(Object.values(compose.services).some((service) => service.image?.startsWith('redis'))).toBe(true);
    const exportVolumes = replicas.map((service) => service.volumes?.find((volume) => volume.endsWith(':/var/lib/audit-gateway/exports')));
    expect(exportVolumes[0]).toBeDefined();
    expect(exportVolumes[0]).toBe(exportVolumes[1]);
    for (const service of replicas) expect(JSON.stringify(service.environment)).toContain('${');
  });

  it('mounts a config that is valid once its secrets are in the environment', () => {
    const env = {
      AUDIT_GATEWAY_CURSOR_SECRET: 'c'.repeat(40),
      SECOPS_KEY_SHA256: 'a'.repeat(64),
      EXPORT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      REDIS_URL: 'redis://:secret@redis:6379',
      NIRVANA_API_KEY: 'nirvana-key',
    };
    const config = parseConfig(parse(fs.readFileSync(path.join(ROOT, 'deploy/gateway.yaml'), 'utf8')), env);
    expect(config.server.cache.redisUrl).toBe(env.REDIS_URL);
    expect(config.server.exports?.dir).toBe('/var/lib/audit-gateway/exports');
  });
});
