module github.com/switchyard/switchyard/sdk/go

go 1.26.0

replace github.com/switchyard/switchyard/pkg => ../../pkg

require github.com/switchyard/switchyard/pkg v0.0.0-00010101000000-000000000000

require github.com/cespare/xxhash/v2 v2.3.0 // indirect
