package metrics

import "github.com/flowd-dev/flowd/internal/sourcelabel"

// CheckSourceLabel says what is wrong with name as a static source label (config: a source's
// labels), or returns nil; it is sourcelabel.Check, which config calls without importing
// client_golang.
func CheckSourceLabel(name string) error { return sourcelabel.Check(name) }
