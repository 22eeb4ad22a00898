# Two images from one file: the App (`docker build --target app`) and the
# container Action (the default, last stage). Both are one static binary
# on a minimal base.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so this layer is reused while only the code changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /gitee-mirror ./action

# The App's binary, in a stage of its own: building the Action does not
# compile the App (the pure-Go SQLite takes minutes). Static too: the
# SQLite driver is pure Go.
FROM build AS build-app
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /gitee-mirror-app ./app \
 && mkdir /data

# The App: docker build --target app. Runs as distroless's nonroot user
# (65532), keeps its database under the /data volume, listens on 8080.
FROM gcr.io/distroless/static-debian12:nonroot AS app
COPY --from=build-app /gitee-mirror-app /gitee-mirror-app
COPY --from=build-app --chown=65532:65532 /data /data
ENV GITEE_MIRROR_DATA_DIR=/data \
    GITEE_MIRROR_LISTEN_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/gitee-mirror-app"]

# The Action's stage, last: GitHub runs the final stage. distroless/static
# carries CA certificates and nothing else. No USER line: GitHub runs docker
# actions as root, and its workspace and file-command mounts expect it.
FROM gcr.io/distroless/static-debian12
COPY --from=build /gitee-mirror /gitee-mirror
ENTRYPOINT ["/gitee-mirror"]
