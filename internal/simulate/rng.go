package simulate

import (
	"math"
	"math/bits"
)

// rng is a splitmix64 generator. It is tiny, fast, allocation-free and fully specified here,
// so the simulator's output depends only on the seed, never on the Go version's math/rand.
type rng struct{ s uint64 }

// mix is the splitmix64 finaliser: a strong 64-bit hash, used to derive independent seeds
// for each (interface, interval, purpose) so generation order never changes the output.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// seeded returns a generator for the given seed and salts. Salts are hashed in turn, so
// (1, 2) and (2, 1) give unrelated streams.
func seeded(seed uint64, salts ...uint64) rng {
	z := mix(seed + 0x9e3779b97f4a7c15)
	for _, s := range salts {
		z = mix(z ^ mix(s+0x632be59bd9b4e019))
	}
	return rng{s: z}
}

// next returns 64 random bits.
func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// intn returns a value in [0, n); n must be > 0. The multiply-shift reduction has a bias of
// n/2^64, irrelevant for a traffic model.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi] (inclusive).
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// pareto returns a Pareto(xm, alpha) value: heavy-tailed, the usual model of flow sizes.
func (r *rng) pareto(xm, alpha float64) float64 {
	u := 1 - r.float() // (0, 1]
	return xm * math.Pow(u, -1/alpha)
}

// skewed returns an index in [0, n) where low indices are much more likely (density ~ x^(1/k-1)):
// a few heavy hitters and a long tail, as talkers and ports are in real traffic.
func (r *rng) skewed(n int, k float64) int {
	f := r.float()
	i := int(float64(n) * math.Pow(f, k))
	if i >= n {
		i = n - 1
	}
	return i
}
