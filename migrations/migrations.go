// Package migrations embeds the versioned SQL migrations: one directory per
// engine, the same version numbers in both, each file with its Up and Down.
package migrations

import "embed"

// FS holds mysql/*.sql and sqlite/*.sql.
//
//go:embed mysql/*.sql sqlite/*.sql
var FS embed.FS
