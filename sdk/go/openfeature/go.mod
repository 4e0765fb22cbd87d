module github.com/switchyard/switchyard/sdk/go/openfeature

go 1.26.0

replace (
	github.com/switchyard/switchyard/pkg => ../../../pkg
	github.com/switchyard/switchyard/sdk/go => ../
)

require (
	github.com/open-feature/go-sdk v1.17.0
	github.com/switchyard/switchyard/pkg v0.0.0-00010101000000-000000000000
	github.com/switchyard/switchyard/sdk/go v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	go.uber.org/mock v0.6.0 // indirect
)
