# goshawk: a static binary on a distroless base, run as a non-root user.
#
#   docker build -t goshawk:dev .
#   docker run --rm goshawk:dev run --help
#
# Settings come from flags or GOSHAWK_* environment variables (see
# docker-compose.yml). The default command is `run`.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that source edits do not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go throughout (the SQLite driver is modernc.org/sqlite), so no cgo.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/goshawk ./cmd/goshawk

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/goshawk /usr/local/bin/goshawk
# nonroot (65532) owns its home: the working directory, where --sink=sqlite
# writes goshawk.db unless --sqlite-path says otherwise.
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/goshawk"]
CMD ["run"]
