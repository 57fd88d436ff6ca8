package sourcelabel

import "testing"

func TestCheck(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{"env": true, "team_2": true, "_x": true, "2env": false, "env-x": false,
		"": false, "__name": false, "port": false, "job": false, "log_group": false, LogGroupLabel: false} {
		if err := Check(name); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

func TestSetKey(t *testing.T) {
	t.Parallel()
	a := FromMap(map[string]string{"team": "net", "env": "prod"})
	b := FromMap(map[string]string{"env": "prod", "team": "net"})
	if a.Key() != b.Key() || a[0].Name != "env" {
		t.Fatalf("sets of the same labels differ: %q %q", a.Key(), b.Key())
	}
	if FromMap(nil).Key() != "" || a.Key() == FromMap(map[string]string{"env": "prod"}).Key() {
		t.Fatal("distinct sets share a key")
	}
	if a.Value("team") != "net" || a.Value("x") != "" {
		t.Fatal("Value")
	}
}
