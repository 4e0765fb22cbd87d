module github.com/switchyard/switchyard/services/admin

go 1.26.0

replace github.com/switchyard/switchyard/pkg => ../../pkg
