# syntax=docker/dockerfile:1
# One image for the rekey worker and the dashboard. The apps run from their TypeScript sources
# (the `@rekey/source` export condition) through tsx, as in the workspace.
#   docker build -t rekey .
#   docker run --rm rekey --help                        # the rekey CLI
#   docker run --rm rekey worker --config /etc/rekey/rekey.config.json

FROM node:20-bookworm-slim AS build
# better-sqlite3 and pkcs11js are native addons: a compiler for when no prebuilt binary fits.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12 && npm cache clean --force
WORKDIR /app
COPY . .
# Only the worker, the dashboard and the workspace packages they use; no dev tooling.
RUN pnpm install --frozen-lockfile --filter "@rekey/worker..." --filter "@rekey/dashboard..."
# tsx, at the workspace's version, outside the workspace (it is a root dev dependency there).
RUN mkdir /opt/tsx && cd /opt/tsx && npm init -y >/dev/null \
  && npm install --no-audit --no-fund "tsx@$(node -p "require('/app/package.json').devDependencies.tsx")" \
  && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
  NODE_OPTIONS="--conditions=@rekey/source --import=file:///opt/tsx/node_modules/tsx/dist/loader.mjs"
WORKDIR /app
COPY --from=build --chown=root:root /opt/tsx /opt/tsx
COPY --from=build --chown=root:root /app /app
# The config is mounted at /etc/rekey; a local keyring (if used) lives in /var/lib/rekey.
RUN mkdir -p /etc/rekey /var/lib/rekey && chown node:node /var/lib/rekey
USER node
ENTRYPOINT ["node", "apps/worker/src/cli.ts"]
CMD ["worker", "--config", "/etc/rekey/rekey.config.json"]
