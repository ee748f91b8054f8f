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
# Type-check at build time: a broken tree never becomes an image.
RUN for p in packages/* services/*; do pnpm exec tsc --noEmit -p "$p" || exit 1; done
ENV NODE_ENV=production \
    MT_SERVICE=gateway \
    MT_TMP_DIR=/tmp/memorialtube \
    MT_DATA_DIR=/app/data
RUN mkdir -p /app/data /tmp/memorialtube && chown -R node:node /app/data /tmp/memorialtube
USER node
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
# Services run from TypeScript through tsx, exactly as in development and tests.
CMD ["sh", "-c", "exec node --import tsx services/${MT_SERVICE}/src/main.ts"]
