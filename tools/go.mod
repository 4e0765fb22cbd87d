module github.com/switchyard/switchyard/tools

go 1.26.0

replace (
	github.com/switchyard/switchyard/pkg => ../pkg
	github.com/switchyard/switchyard/pkg/platform => ../pkg/platform
	github.com/switchyard/switchyard/pkg/testinfra => ../pkg/testinfra
)

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/jackc/pgx/v5 v5.13.0
	github.com/labstack/echo/v4 v4.16.5
	github.com/open-feature/go-sdk v1.17.0
	github.com/switchyard/switchyard/pkg v0.0.0-00010101000000-000000000000
	github.com/switchyard/switchyard/pkg/testinfra v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	go.uber.org/mock v0.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
)

require (
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/labstack/gommon v0.5.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.22 // indirect
	github.com/switchyard/switchyard/sdk/go v0.0.0-00010101000000-000000000000
	github.com/switchyard/switchyard/sdk/go/openfeature v0.0.0-00010101000000-000000000000
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasttemplate v1.2.2 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/switchyard/switchyard/sdk/go => ../sdk/go

replace github.com/switchyard/switchyard/sdk/go/openfeature => ../sdk/go/openfeature
