package aggregate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		fields []string // the ConfigError fields expected, in order
	}{
		{name: "default is valid", mutate: func(*Config) {}},
		{name: "sub-second bucket", mutate: func(c *Config) { c.BucketWidth = 1500 * time.Millisecond }, fields: []string{"BucketWidth"}},
		{name: "no windows", mutate: func(c *Config) { c.Windows = nil }, fields: []string{"Windows"}},
		{name: "window not a multiple", mutate: func(c *Config) { c.Windows = []time.Duration{time.Minute, 65 * time.Second} }, fields: []string{"Windows[1]"}},
		{name: "duplicate window", mutate: func(c *Config) { c.Windows = []time.Duration{time.Minute, time.Minute} }, fields: []string{"Windows[1]"}},
		{name: "negative window", mutate: func(c *Config) { c.Windows = []time.Duration{-time.Minute} }, fields: []string{"Windows[0]"}},
		{name: "negative lateness", mutate: func(c *Config) { c.AllowedLateness = -time.Second }, fields: []string{"AllowedLateness"}},
		{name: "negative skew", mutate: func(c *Config) { c.MaxClockSkew = -time.Second }, fields: []string{"MaxClockSkew"}},
		{name: "ring too long", mutate: func(c *Config) { c.BucketWidth = time.Second; c.Windows = []time.Duration{48 * time.Hour} }, fields: []string{"Windows"}},
		{name: "zero ports", mutate: func(c *Config) { c.MaxPorts = 0 }, fields: []string{"MaxPorts"}},
		{name: "service ports over the cap", mutate: func(c *Config) { c.MaxPorts = 3; c.ServicePorts = []uint16{80, 443} }, fields: []string{"MaxPorts"}},
		{name: "zero interfaces", mutate: func(c *Config) { c.MaxInterfaces = 0 }, fields: []string{"MaxInterfaces"}},
		{name: "zero top", mutate: func(c *Config) { c.TopK = 0 }, fields: []string{"TopK"}},
		{name: "capacity below top", mutate: func(c *Config) { c.HeavyHitterCapacity = 5 }, fields: []string{"HeavyHitterCapacity"}},
		{name: "scan threshold too high", mutate: func(c *Config) { c.ScanPortThreshold = MaxDistinctPorts + 1 }, fields: []string{"ScanPortThreshold"}},
		{name: "service port zero", mutate: func(c *Config) { c.ServicePorts = []uint16{443, 0} }, fields: []string{"ServicePorts[1]"}},
		{name: "ephemeral zero", mutate: func(c *Config) { c.EphemeralStart = 0 }, fields: []string{"EphemeralStart"}},
		{name: "every problem reported", mutate: func(c *Config) { c.MaxPorts = -1; c.TopK = -1 }, fields: []string{"MaxPorts", "TopK"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var ce *ConfigError
					if !errors.As(e, &ce) {
						t.Fatalf("error %v is not a *ConfigError", e)
					}
					if !strings.Contains(ce.Error(), ce.Field) {
						t.Errorf("message %q does not name the field %q", ce.Error(), ce.Field)
					}
					got = append(got, ce.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("Validate fields = %v, want %v (err: %v)", got, tc.fields, err)
			}
			if _, err := New(cfg, &fakeClock{}); (err == nil) != (len(tc.fields) == 0) {
				t.Errorf("New error = %v, want error %v", err, len(tc.fields) > 0)
			}
		})
	}
}

func TestNewNeedsClock(t *testing.T) {
	t.Parallel()
	var ce *ConfigError
	if _, err := New(DefaultConfig(), nil); !errors.As(err, &ce) || ce.Field != "clock" {
		t.Errorf("New(nil clock) = %v, want a ConfigError on clock", err)
	}
}
