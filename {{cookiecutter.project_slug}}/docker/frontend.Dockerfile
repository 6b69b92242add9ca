# Development image for the Vite dev server on port 5173.
# Build context is the project root. compose.yaml bind-mounts ./frontend over
# /app/frontend and keeps the image's node_modules in an anonymous volume.

FROM node:20.19-bookworm-slim

# The node image ships the unprivileged user "node" with uid 1000.
RUN mkdir -p /app/frontend && chown node:node /app/frontend
WORKDIR /app/frontend
USER 1000:1000

COPY --chown=node:node frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY --chown=node:node frontend/ ./

EXPOSE 5173

# Vite listens on localhost only unless told otherwise, which a published port cannot reach.
CMD ["npm", "run", "dev", "--", "--host", "0.0.0.0"]
