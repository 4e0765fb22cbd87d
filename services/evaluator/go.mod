module github.com/switchyard/switchyard/services/evaluator

go 1.26.0

replace github.com/switchyard/switchyard/pkg => ../../pkg
