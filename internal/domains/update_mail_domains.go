//go:build ignore

// update_mail_domains rewrites public_mail_domains.txt from an unpacked copy
// of the npm package free-email-domains (its domains.json and package.json):
//
//	make mail-domains
//
// which runs `npm pack free-email-domains@latest`, unpacks it and calls
//
//	go run internal/domains/update_mail_domains.go DIR
//
// with DIR the unpacked package/ folder. Review the diff, run the tests and
// commit the list.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const out = "internal/domains/public_mail_domains.txt"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run internal/domains/update_mail_domains.go DIR (the unpacked npm package)")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "update_mail_domains:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		License string `json:"license"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return err
	}
	if pkg.Name != "free-email-domains" {
		return fmt.Errorf("%s holds %q, not free-email-domains", dir, pkg.Name)
	}
	var list []string
	if err := readJSON(filepath.Join(dir, "domains.json"), &list); err != nil {
		return err
	}
	for i, d := range list {
		list[i] = strings.ToLower(strings.TrimSpace(d))
	}
	slices.Sort(list)
	list = slices.Compact(slices.DeleteFunc(list, func(d string) bool { return d == "" || strings.ContainsAny(d, " #") }))
	if len(list) < 1000 {
		return fmt.Errorf("only %d domains: refusing to replace the list", len(list))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Public and disposable mail domains: no organization may claim one.
# Source: the npm package %s %s (%s licence, (c) Kiko Beats), which merges
# HubSpot's list of free mail domains with the disposable-email-domains
# blocklists; taken on %s. Refresh with "make mail-domains".
# One lower-case A-label per line, sorted; lines starting with # are comments.
`, pkg.Name, pkg.Version, pkg.License, time.Now().UTC().Format(time.DateOnly))
	for _, d := range list {
		b.WriteString(d)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %d domains from %s %s to %s\n", len(list), pkg.Name, pkg.Version, out)
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
