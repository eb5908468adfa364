# tripline: one image for every role.
#   docker build -t tripline .                  (podman: add --format docker, or HEALTHCHECK is dropped)
#   docker run -p 8080:8080 tripline            embedded mode: broker, pipeline and API in one process
#   docker run tripline start --role ingest      cluster mode (or worker, sync, api, all, or a list:
#                                                ingest,worker), with the TRIPLINE_*_URL variables set
# Configuration is by environment variable only (src/runtime/config.ts SETTINGS; README "Configuration").

# ---- build: compile the TypeScript and better-sqlite3's native addon ----
FROM node:20-bookworm-slim AS build

# better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so this layer is reused until the lockfile changes. --ignore-scripts
# skips the root `prepare` script (it compiles, and the sources are not here yet); the one
# dependency with an install script, better-sqlite3, is then built on its own.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3

# src/ is compiled to dist/src/ and the web dashboard (web/) built to dist/web/; .dockerignore
# leaves tests, fixtures and benchmarks out.
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
# better-sqlite3 needs only its addon at run time: when it was compiled here (no prebuilt binary
# reachable), its sources and object files are another 25 MB.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node . \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv better_sqlite3.node build/Release/

# ---- runtime ----
FROM node:20-bookworm-slim AS runtime

# TRIPLINE_HOST: inside a container 127.0.0.1 (the default) would reach nobody.
# TRIPLINE_DATA_DIR: the embedded databases (plain `start`, no --role) and the development
# issuer's key; mount a volume here to keep them.
ENV NODE_ENV=production \
    TRIPLINE_HOST=0.0.0.0 \
    TRIPLINE_HTTP_PORT=8080 \
    TRIPLINE_DATA_DIR=/var/lib/tripline

WORKDIR /app

# The image's `node` user (uid 1000) owns only the data folder; the code stays root's, read-only to it.
RUN mkdir -p /var/lib/tripline \
 && chown 1000:1000 /var/lib/tripline \
 && chmod 700 /var/lib/tripline

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
COPY --from=build /app/node_modules ./node_modules

# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 1000:1000

# 8080: /healthz, /metrics and, for the api role, the HTTP API.
# 1883: the embedded MQTT broker only (no TRIPLINE_MQTT_URL); in cluster mode devices talk to Mosquitto.
EXPOSE 8080 1883

# No curl in the slim image: node's own fetch. /healthz answers 503 while the process is degraded.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TRIPLINE_HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Node is PID 1: tripline handles SIGTERM itself (it finishes what it holds, then exits).
# The default is embedded mode: `start --role all` is cluster mode and exits at once without the
# TRIPLINE_*_URL variables (and ignores --demo).
ENTRYPOINT ["node", "bin/tripline.js"]
CMD ["start"]
