package main

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://u:pw@h:1/p":                          "http://u:xxxxx@h:1/p",
		`endpoint "ftp://flowd:s3cr3t@127.0.0.1:21"`: `endpoint "ftp://flowd:xxxxx@127.0.0.1:21"`,
		"a https://:pw@h b http://x:y@z":             "a https://:xxxxx@h b http://x:xxxxx@z",
		"http://user@h (no password)":                "http://user@h (no password)",
		"mailto:a@b, http://h/p?q=a:b@c":             "mailto:a@b, http://h/p?q=a:b@c",
	} {
		if got := redactURLs(in); got != want {
			t.Errorf("redactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactYAML(t *testing.T) {
	t.Parallel()
	in := "sources:\n  - endpoint: http://u:pw1@h\n    external_id: pw2\n    role_arn: arn:aws:iam::1:role/r\nextra:\n  api_token: pw3\n  password: ''\n  list: [http://a:pw4@b]\n"
	out, err := redactYAML([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"pw1", "pw2", "pw3", "pw4"} {
		if strings.Contains(string(out), pw) {
			t.Errorf("%s is printed:\n%s", pw, out)
		}
	}
	for _, keep := range []string{"role_arn: arn:aws:iam::1:role/r", "endpoint: http://u:xxxxx@h", "external_id: <secret>", "password: ''"} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("output lacks %q:\n%s", keep, out)
		}
	}
}

// FuzzRedact checks that no password of a URL survives redactURLs, wherever the URL stands, and
// that redactYAML takes any YAML and prints YAML.
func FuzzRedact(f *testing.F) {
	f.Add("endpoint: ", "flowd", "s3cr3tpw", "/path")
	f.Add(`"`, "", "p4ss-word.x", `" is not an http(s) URL`)
	f.Fuzz(func(t *testing.T, prefix, user, password, suffix string) {
		// The URL's user info ends at white space (RE2's \s), quotes and brackets, as in prose.
		const ends = " \t\n\f\r\"'<>/@"
		if len(password) < 6 || strings.ContainsAny(password, ends) || strings.ContainsAny(user, ends+":") {
			return
		}
		if strings.Contains(prefix+user+suffix+"http://host", password) {
			return // the password is also elsewhere: not a secret of the URL
		}
		s := prefix + "http://" + user + ":" + password + "@host" + suffix
		if got := redactURLs(s); strings.Contains(got, password) {
			t.Errorf("redactURLs(%q) = %q keeps the password", s, got)
		}
		doc := prefix + suffix
		var n yaml.Node
		if yaml.Unmarshal([]byte(doc), &n) != nil {
			return
		}
		out, err := redactYAML([]byte(doc))
		if err != nil {
			return // a document yaml decodes but cannot encode again
		}
		if err := yaml.Unmarshal(out, &n); err != nil {
			t.Errorf("redactYAML(%q) = %q: not YAML: %v", doc, out, err)
		}
	})
}
