// Package migrations embeds the SQL migrations of the Switchyard schema. The admin
// binary applies them with goose (admin migrate up|down|status); the evaluator never
// migrates.
package migrations

import "embed"

// FS holds the migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
