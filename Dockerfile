# syntax=docker/dockerfile:1
# One image for every MemorialTube service; MT_SERVICE picks which one runs
# (gateway | canvas | transition | render). Node 24 LTS, pnpm 12.4.2 (the version in package.json's
# packageManager), Debian's ffmpeg 5.1 (libx264) and heif-convert for HEIC photos.
FROM node:24-bookworm-slim AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libheif-examples ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
RUN npm i -g -E pnpm@12.4.2
WORKDIR /app

# Dependencies first (cached while only sources change): every workspace manifest, then install.
FROM base AS deps
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/media/package.json packages/media/
COPY packages/platform/package.json packages/platform/
COPY services/gateway/package.json services/gateway/
COPY services/canvas/package.json services/canvas/
COPY services/transition/package.json services/transition/
COPY services/render/package.json services/render/
COPY tests/package.json tests/
RUN pnpm install --frozen-lockfile

FROM deps AS app
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY infra/comfyui infra/comfyui
# Compile to JavaScript (each package's dist/); a tree that does not type-check never becomes an image.
# Compiled JavaScript, not a TypeScript loader, at run time: measured at rest, the gateway 161 MB
# instead of 228 MB under tsx and each worker ~122 MB instead of ~171 MB (README, "Production start").
RUN pnpm exec tsc -b services/gateway/tsconfig.build.json services/canvas/tsconfig.build.json \
      services/transition/tsconfig.build.json services/render/tsconfig.build.json
ENV NODE_ENV=production \
    MT_SERVICE=gateway \
    MT_TMP_DIR=/tmp/memorialtube \
    MT_DATA_DIR=/app/data
RUN mkdir -p /app/data /tmp/memorialtube && chown -R node:node /app/data /tmp/memorialtube
USER node
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
# `compiled` is the package.json exports condition that resolves @mt/* to dist/ instead of src/. The
# gateway's V8 heap is bounded so its RSS stays flat under load (scripts/service-command.ts says why).
CMD ["sh", "-c", "if [ \"$MT_SERVICE\" = gateway ]; then heap='--max-old-space-size=192 --max-semi-space-size=32'; fi; exec node $heap --conditions=compiled services/${MT_SERVICE}/dist/main.js"]
