# syntax=docker/dockerfile:1
#
# NeoSC API image: a static binary on distroless, running as a non-root user.
#   docker build -t neosc .
#   docker run -p 8080:8080 -v neosc-data:/data neosc
# The embedded SQLite database and the signing key live under /data unless
# NEOSC_DATABASE_URL points at MySQL (see docker-compose.yml).

# The console and GraphiQL (web/): built with the pinned npm packages, then
# embedded into the binary by the Go build below.
FROM node:20 AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN node build.mjs

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so source edits do not invalidate the module cache layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /web/dist ./web/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/neosc . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/neosc /neosc
# An empty /data owned by the runtime user: a named volume mounted here starts
# as a copy of it, so the service can write its key and database.
COPY --from=build --chown=65532:65532 /out/data /data
ENV NEOSC_ADDR=:8080 \
    NEOSC_DATABASE_URL=sqlite:/data/neosc.db \
    NEOSC_SIGNING_KEY_FILE=/data/signing-key.jwk
# The contract's relative defaults (data/neosc.db, data/signing-key.jwk) also
# resolve into the volume.
WORKDIR /
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/neosc"]
CMD ["serve"]
