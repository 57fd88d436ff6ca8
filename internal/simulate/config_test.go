package simulate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		edit   func(*Config)
		fields []string // the ConfigError fields expected, in order
	}{
		{"valid", func(*Config) {}, nil},
		{"zero delays are valid", func(c *Config) { c.DelayMin, c.DelayMax, c.StragglerFraction = 0, 0, 0 }, nil},
		{"no start", func(c *Config) { c.Start = time.Time{} }, []string{"Start"}},
		{"no interfaces", func(c *Config) { c.Interfaces = 0 }, []string{"Interfaces"}},
		{"too many interfaces", func(c *Config) { c.Interfaces = MaxInterfaces + 1 }, []string{"Interfaces"}},
		{"interval 30s", func(c *Config) { c.Interval = 30 * time.Second }, []string{"Interval"}},
		{"negative flows", func(c *Config) { c.FlowsPerInterval = -1 }, []string{"FlowsPerInterval"}},
		{"max below min", func(c *Config) { c.DelayMin, c.DelayMax = time.Minute, time.Second }, []string{"DelayMax"}},
		{"negative min", func(c *Config) { c.DelayMin = -time.Second }, []string{"DelayMin"}},
		{"straggler bound below max", func(c *Config) { c.StragglerMax = time.Minute }, []string{"StragglerMax"}},
		{"fraction above 1", func(c *Config) { c.StragglerFraction = 1.5 }, []string{"StragglerFraction"}},
		{"unknown scenario", func(c *Config) { c.Scenario = "ddos" }, []string{"Scenario"}},
		{"no event duration", func(c *Config) { c.EventDuration = 0 }, []string{"EventDuration"}},
		{"too many scan ports", func(c *Config) { c.ScanPorts = 70000 }, []string{"ScanPorts"}},
		{"short demo period", func(c *Config) { c.DemoPeriod = time.Minute }, []string{"DemoPeriod"}},
		{"bad account", func(c *Config) { c.AccountID = "12345" }, []string{"AccountID"}},
		{"bad region", func(c *Config) { c.Region = "us east" }, []string{"Region"}},
		{"NaN fraction", func(c *Config) { c.IPv6Fraction = nan() }, []string{"IPv6Fraction"}},
		{"several at once", func(c *Config) { c.Interfaces, c.Tick, c.SkipDataRate = -3, 0, 2 },
			[]string{"Interfaces", "SkipDataRate", "Tick"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			tc.edit(&cfg)
			_, err := New(cfg)
			var got []string
			if err != nil {
				joined, ok := err.(interface{ Unwrap() []error })
				if !ok {
					t.Fatalf("error %v is not a joined list", err)
				}
				for _, e := range joined.Unwrap() {
					var ce *ConfigError
					if !errors.As(e, &ce) {
						t.Fatalf("error %v is not a *ConfigError", e)
					}
					if !strings.Contains(ce.Error(), ce.Field) {
						t.Fatalf("message %q does not name the field", ce.Error())
					}
					got = append(got, ce.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("invalid fields %v, want %v (error: %v)", got, tc.fields, err)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestAZIDPrefix(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{
		"us-east-1": "use1", "ap-southeast-2": "apse2", "eu-west-1": "euw1", "ap-northeast-1": "apne1",
		"ca-central-1": "cac1", "weird": "az",
	} {
		if got := azIDPrefix(region); got != want {
			t.Errorf("azIDPrefix(%q) = %q, want %q", region, got, want)
		}
	}
}
