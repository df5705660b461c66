//go:build tools

// Package main pins build-time tools so `go generate` uses the versions in go.mod.
package main

import (
	_ "github.com/99designs/gqlgen"
)
