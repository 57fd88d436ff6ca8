package main

import (
	"bytes"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// urlPassword matches the password of a URL's user info (scheme://user:password@host), which
// is how basic auth and some endpoints carry credentials.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]*):[^/\s@"'<>]*@`)

// redactedPassword replaces passwords, as url.URL.Redacted writes it.
const redactedPassword = "xxxxx"

// redactURLs replaces the password of every URL in s.
func redactURLs(s string) string {
	return urlPassword.ReplaceAllString(s, "${1}:"+redactedPassword+"@")
}

// secretKey matches the names of keys whose values are secrets, whatever the config calls them.
var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|private_key|api_key|access_key|external_id)`)

// secretMask replaces a secret value, as internal/config masks them.
const secretMask = "<secret>"

// redactYAML masks, in a YAML document, the value of every key that names a secret and the
// password of every URL. internal/config masks the secrets it knows; this is the net under it
// for those it does not (a password inside an endpoint URL, a key added later).
func redactYAML(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.ScalarNode && v.Value != "" && v.Value != secretMask && secretKey.MatchString(k.Value) {
					v.Value, v.Tag, v.Style = secretMask, "!!str", 0
					continue
				}
				walk(v)
			}
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.ScalarNode:
			if strings.Contains(n.Value, "@") {
				n.Value = redactURLs(n.Value)
			}
		}
	}
	walk(&root)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
