package main

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
	"text/template"
)

// rulesTemplate uses <% %> delimiters so that Prometheus' own {{ }} annotation templates pass through.
//
//go:embed rules.yml.tmpl
var rulesTemplate string

// Render writes the rule file for p to w.
func Render(w io.Writer, p *Params) error {
	funcs := template.FuncMap{
		// sel returns the configured selector followed by extra matchers (joined as one string).
		"sel": func(extra ...string) string {
			if len(extra) == 0 {
				return p.Selector
			}
			return p.Selector + ", " + strings.Join(extra, "")
		},
		// by returns the aggregation labels followed by the rule's own.
		"by":      func(labels string) string { return p.GroupBy + ", " + labels },
		"runbook": func(anchor string) string { return p.RunbookURL + "#" + anchor },
		"seconds": seconds,
	}
	t, err := template.New("rules").Delims("<%", "%>").Funcs(funcs).Option("missingkey=error").Parse(rulesTemplate)
	if err != nil {
		return fmt.Errorf("parse rules template: %w", err)
	}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("render rules: %w", err)
	}
	return nil
}
