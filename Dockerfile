# The container Action: a static binary on a minimal base.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so this layer is reused while only the code changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /gitee-mirror ./action

# The Action's stage, last: GitHub runs the final stage. distroless/static
# carries CA certificates and nothing else. No USER line: GitHub runs docker
# actions as root, and its workspace and file-command mounts expect it.
FROM gcr.io/distroless/static-debian12
COPY --from=build /gitee-mirror /gitee-mirror
ENTRYPOINT ["/gitee-mirror"]
