# The kaito-ts manager image: `docker build -t kaito-ts:latest .`, deployed by deploy/manager/.
#
# No build step: Node 24 runs the TypeScript sources directly by type stripping, so the image is
# the sources plus the runtime dependencies. The node@24 devDependency only exists to give npm
# scripts Node 24 on machines whose own Node is older; the base image already is Node 24, so
# `--omit=dev` leaves it (and vitest, typescript, eslint, highs) out.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# Everything the CLI imports (its commands are imported statically: `up` needs localcluster/,
# `simulate` needs simulations/); test/ and scripts/ stay out. deploy/image.test.ts checks the list.
COPY cli ./cli
COPY controller ./controller
COPY crds ./crds
COPY kube ./kube
COPY lib ./lib
COPY localcluster ./localcluster
COPY planner ./planner
COPY presets ./presets
COPY provisioner ./provisioner
COPY scheduler ./scheduler
COPY simulations ./simulations
COPY webhook ./webhook
# The image's unprivileged user (uid 1000), matching the Deployment's runAsUser.
USER node
EXPOSE 8080 8081 8888 9090 9443
ENTRYPOINT ["node", "cli/main.ts", "controller"]
