package aggregate

import (
	"testing"
	"time"

	"github.com/flowd-dev/flowd/internal/parse"
	"github.com/flowd-dev/flowd/internal/simulate"
)

// TestDirectionInferenceOnSimulator measures the direction inference against the simulator's
// flow-direction field: every flow record of 30 minutes of the scenario, in delivery order,
// inferred with the field hidden. The figures are in docs/performance.md ("Direction
// inference"); the test fails if the inference is ever wrong more than 1% of the time or
// leaves more than 2% unknown.
func TestDirectionInferenceOnSimulator(t *testing.T) {
	t.Parallel()
	for _, scenario := range []string{simulate.ScenarioSteady, simulate.ScenarioPortScan, simulate.ScenarioDemo} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			cfg := simulate.DefaultConfig()
			cfg.Start = t0.Add(-30 * time.Minute)
			cfg.Interfaces = 50
			cfg.Scenario = scenario
			f := parse.MustCompile(simulate.FullV5Format)
			cfg.Format = f
			sim, err := simulate.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			guesses := map[string]*[2]ownGuess{}
			var right, wrong, unknown int
			var r parse.Record
			for _, d := range sim.Advance(t0.Add(15 * time.Minute)) {
				for _, e := range d.Events {
					if err := f.Parse(e.Message, &r); err != nil {
						t.Fatal(err)
					}
					if r.LogStatus != parse.LogStatusOK || r.FlowDirection == parse.FlowDirectionNone {
						continue
					}
					g := guesses[r.InterfaceID]
					if g == nil {
						g = new([2]ownGuess)
						guesses[r.InterfaceID] = g
					}
					truth := r.FlowDirection
					r.Present = r.Present.Without(parse.FieldFlowDirection)
					got := recordDirection(&r, g, true)
					switch {
					case got == DirectionUnknown:
						unknown++
					case (got == DirectionIngress) == (truth == parse.FlowDirectionIngress):
						right++
					default:
						wrong++
					}
				}
			}
			n := right + wrong + unknown
			t.Logf("%s: %d records: %.2f%% right, %.2f%% wrong, %.2f%% unknown", scenario, n,
				100*float64(right)/float64(n), 100*float64(wrong)/float64(n), 100*float64(unknown)/float64(n))
			if n < 1000 || float64(wrong) > 0.01*float64(n) || float64(unknown) > 0.02*float64(n) {
				t.Errorf("inference: %d right, %d wrong, %d unknown of %d", right, wrong, unknown, n)
			}
		})
	}
}
