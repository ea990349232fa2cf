# Audit Gateway: docker build -t audit-gateway . ; see compose.yaml and docs/replicas.md.

# Build: every dependency (codegen and tsc are dev dependencies), then dist/.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Run: production dependencies only, as the unprivileged `node` user of the base image.
FROM node:20-slim
ENV NODE_ENV=production \
    PORT=4000 \
    AUDIT_GATEWAY_CONFIG=/etc/audit-gateway/config.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The schema is read at start; package.json gives the version manifests carry.
COPY --from=build /app/dist ./dist
COPY schema ./schema
# Owned by `node`, so that a named volume mounted here starts writable for it.
RUN mkdir -p /var/lib/audit-gateway/exports /etc/audit-gateway && chown -R node:node /var/lib/audit-gateway
USER node
EXPOSE 4000
# slim has no curl: node's own fetch asks /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The config comes from a mounted file (AUDIT_GATEWAY_CONFIG), its secrets from the environment.
CMD ["node", "dist/src/index.js"]
