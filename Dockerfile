# syntax=docker/dockerfile:1
# One image for the ingest (default command), the agent (the compose demo) and the deployment's
# one-shot setup steps. Built from the repository root: docker build -t cluster-telemetry .

# Pinned to a patch release so a rebuild does not silently change the runtime; bump it deliberately.
# Node 22, the maintained LTS line (Node 20 reached its end of life in April 2026). The project
# still runs on Node 20 outside the image, which keeps @elastic/elasticsearch on 8.19: the 9.x
# client needs Node 22 everywhere the ingest may run (see the README's versions).
ARG NODE_IMAGE=node:22.23.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, in their own layer: source edits do not re-run the install.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY agent/src ./agent/src
COPY ingest/src ./ingest/src
COPY kibana/src ./kibana/src
COPY live/src ./live/src
COPY deploy/certs ./deploy/certs
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing in the runtime tree needs one, and none runs with build-time trust.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY kibana/saved-objects ./kibana/saved-objects
COPY live/page ./live/page
COPY deploy/setup ./deploy/setup
# telemetry-live's token lives here; a named volume mounted on it takes this owner.
RUN mkdir -p /var/lib/telemetry-live && chown node:node /var/lib/telemetry-live
# The image's node user (uid 1000): nothing here needs root, and a compromised ingest gets no more.
USER node
EXPOSE 9464
# The slim image has no curl; node's fetch is already there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.INGEST_HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/telemetry-ingest.js"]
