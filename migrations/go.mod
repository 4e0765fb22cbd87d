module github.com/switchyard/switchyard/migrations

go 1.26
