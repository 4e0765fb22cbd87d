# syntax=docker/dockerfile:1
# The admin service: a static binary on a distroless base, run as a non-root user.
# Build from the repository root: docker build -f deployments/admin.Dockerfile .

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Module files first, so dependency downloads are cached apart from source changes.
COPY go.work go.work.sum ./
COPY pkg/go.mod pkg/go.sum pkg/
COPY pkg/platform/go.mod pkg/platform/go.sum pkg/platform/
COPY pkg/testinfra/go.mod pkg/testinfra/go.sum pkg/testinfra/
COPY sdk/go/go.mod sdk/go/go.sum sdk/go/
COPY sdk/go/openfeature/go.mod sdk/go/openfeature/go.sum sdk/go/openfeature/
COPY migrations/go.mod migrations/
COPY services/admin/go.mod services/admin/go.sum services/admin/
COPY services/evaluator/go.mod services/evaluator/go.sum services/evaluator/
COPY deployments/go.mod deployments/go.sum deployments/
COPY tools/go.mod tools/go.sum tools/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/admin ./services/admin/cmd/admin

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/admin /admin
USER nonroot:nonroot
# 8080: the API. 9080: the operations listener (metrics, profiles); publish it only
# where operators and Prometheus reach it.
ENV HTTP_ADDR=0.0.0.0:8080 OPS_ADDR=0.0.0.0:9080 LOG_FORMAT=json
EXPOSE 8080 9080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/admin", "healthcheck"]
ENTRYPOINT ["/admin"]
CMD ["serve"]
