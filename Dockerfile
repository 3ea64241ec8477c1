# One image for every Tern process: `docker run tern <gateway|auth|messaging|channel|media|migrate>`.
#
#   deps     all npm dependencies (build tools included)
#   build    proto → TypeScript, TL schemas → generated/tl, tsc → dist/
#   dev      build + sources, for Tilt's live update (npm run build inside the container)
#   runtime  (default) production dependencies, dist/, generated/tl and migrations; non-root
#
# BASE_IMAGE (the runtime's) and BUILD_BASE_IMAGE (where npm ci and the build run) are Debian
# bookworm images with Node 20 and npm on the PATH; both default to the official one (Tilt on kind,
# CI registries). tools/k8s passes local images made with debootstrap where no registry is
# reachable; its build image adds python3, make and g++, because without GitHub, native modules
# of the dev dependencies (better-sqlite3) cannot download their prebuilt binaries and compile.
ARG BASE_IMAGE=node:20-bookworm-slim
ARG BUILD_BASE_IMAGE=node:20-bookworm-slim

FROM ${BUILD_BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci first; registries whose mirrors lack other platforms' optional packages make npm ci
# refuse the lock, and npm install --no-save then installs the same locked versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save

FROM deps AS build
COPY tsconfig.json tsconfig.build.json buf.yaml buf.gen.yaml ./
COPY proto ./proto
COPY tools ./tools
COPY services ./services
RUN npm run build \
 && mkdir -p /out/services && find services -path '*/migrations/*' -type f -exec cp --parents {} /out/ \;

# Tilt's live update syncs services/ and proto/ in and runs `npm run build` as the pod's user
# (uid 10001, as in runtime), so the paths the build writes belong to it; node_modules stays root's.
FROM build AS dev
ENV HOME=/tmp
RUN chown -R 10001:10001 /app/dist /app/generated /app/services /app/proto && chown 10001:10001 /app
USER 10001:10001
ENTRYPOINT ["node", "dist/services/main.js"]
CMD ["gateway"]

FROM ${BASE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN (npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund --no-save) && npm cache clean --force

FROM ${BASE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 tern && useradd --system --uid 10001 --gid tern --home-dir /app tern
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/generated ./generated
COPY package.json ./
# Migrations are read from services/<name>/migrations beside dist/ at run time.
COPY --from=build /out/services ./services
USER 10001:10001
# MTProto TCP and WebSocket (gateway), gRPC per service, Prometheus metrics.
EXPOSE 443 8443 50050 50051 50052 50053 50054 9400
ENTRYPOINT ["node", "dist/services/main.js"]
CMD ["gateway"]
