# syntax=docker/dockerfile:1
#
# sentio-gateway: Polygon minute bars into Kafka.
#
#   docker build -t sentio-gateway:local .
#   docker run --rm -e KAFKA_BOOTSTRAP_SERVERS=broker:9092 -e POLYGON_API_KEY_FILE=/run/secrets/polygon-api-key -p 8080:8080 sentio-gateway:local
#
# Three stages: production dependencies only (deps), the TypeScript build (build), and the
# runtime, which holds node_modules from deps and the compiled dist/ from build, nothing else:
# no TypeScript, no sources, no dev dependencies, no npm cache.
#
# test/integration/deploy-image.test.ts runs this file's ENTRYPOINT + CMD outside Docker
# (same environment, same WORKDIR layout, tini as PID 1 in a PID namespace) and its HEALTHCHECK.

# --- production dependencies ----------------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles with tsc, a dev dependency that is not installed here.
# No production dependency needs an install script (ws's optional natives ship prebuilds).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- compile TypeScript to dist/ -----------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime ----------------------------------------------------------------------------------
FROM node:24-slim AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="sentio-gateway" \
      org.opencontainers.image.description="Polygon per-minute aggregates for the Sentio Lite symbols into Apache Kafka, with heartbeats, health endpoints and Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.vendor="Sentio" \
      org.opencontainers.image.base.name="docker.io/library/node:24-slim"

# tini as PID 1. Node as PID 1 gets no default signal actions from the kernel: a SIGTERM that
# arrives before the gateway has installed its handler (while it connects to Kafka and reads
# the topic's tail at start-up) would be ignored, and `docker stop` / a pod deletion would wait
# for SIGKILL. tini forwards SIGTERM/SIGINT to node (running as PID 2, default actions intact),
# reaps zombies, and exits with node's status (0 after a clean drain).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080

WORKDIR /app
# Owned by root and read-only to the runtime user: the process cannot change its own code.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The `node` user of the official image, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080

# Liveness with node itself (the image has no curl): 200 from /healthz or unhealthy. HTTP is
# up once Kafka is reached and the price topic's tail is read (bounded at 60 s): hence the start period.
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || '8080') + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

STOPSIGNAL SIGTERM
# --max-semi-space-size=8: V8 on Node 24 grows its young generation to 32 MB+ semi-spaces
# under a full-market load and keeps them: measured with `npm run bench`, RSS after a trading
# day was about 200 MB with the default and 136-153 MB with 8 or 16, at the same CPU per bar;
# 8 (was 16) keeps up to 24 MB less under overload, where every MB counts against 300.
# --max-old-space-size=160: without a bound V8 sizes its heap from the machine's memory and
# lets garbage pile up; under overload (bars dropped and replaced as fast as they arrive) RSS
# reached 460-510 MB with the buffer itself capped at 64 MiB (`npm run bench -- --only=overload`).
# The live heap is bounded by 1.5 x MAX_BUFFERED_BYTES (buffered bars, and half as much of held
# ones) plus about 25 MB at rest for 12,000 symbols: about 75 MB at the defaults.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "--max-semi-space-size=8", "--max-old-space-size=160", "dist/main.js"]
CMD ["run"]
