package names

import "strings"

// Skeleton is a placeholder until the confusables-based one lands.
func Skeleton(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }
