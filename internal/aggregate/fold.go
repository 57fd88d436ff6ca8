package aggregate

import (
	"math"
	"math/bits"
)

// hllBits is the HyperLogLog precision: 2^10 one-byte registers (1 KiB per dimension) give a
// relative standard error of about 1.04/sqrt(1024) = 3.3%, plenty for "how many keys did the cap
// turn away", and the memory does not grow with the attack.
const (
	hllBits      = 10
	hllRegisters = 1 << hllBits
)

// exactKeys is how many distinct folded keys are counted exactly (by their 64-bit hashes, in a
// small open-addressing set) before the count switches to the HyperLogLog estimate: small folds
// ("3 interfaces over the cap") are then exact, big ones cost no more memory.
const (
	exactKeys  = 128
	exactSlots = 2 * exactKeys
)

// foldCounter counts the records folded into "other" exactly and the distinct folded keys
// exactly up to exactKeys, then approximately (HyperLogLog over 64-bit hashes of the keys).
type foldCounter struct {
	records  uint64
	reg      [hllRegisters]uint8
	exact    [exactSlots]uint64 // hashes (0 is stored as 1), 0 = empty
	nexact   int
	overflow bool // more than exactKeys distinct keys: use the estimate
}

// add counts one folded record whose key hashes to h.
func (f *foldCounter) add(h uint64) {
	f.records++
	if !f.overflow {
		f.addExact(max(h, 1))
	}
	i := h >> (64 - hllBits)
	// The rank is the position of the first 1 bit in the remaining bits; the sentinel bit keeps it
	// finite when they are all zero.
	rank := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1))) + 1
	if rank > f.reg[i] {
		f.reg[i] = rank
	}
}

// addExact adds hash h (non-zero) to the exact set.
func (f *foldCounter) addExact(h uint64) {
	i := h % exactSlots
	for f.exact[i] != 0 {
		if f.exact[i] == h {
			return
		}
		i = (i + 1) % exactSlots
	}
	if f.nexact == exactKeys {
		f.overflow = true
		return
	}
	f.exact[i] = h
	f.nexact++
}

// distinct returns the number of distinct folded keys: exact up to exactKeys, then estimated.
func (f *foldCounter) distinct() uint64 {
	if !f.overflow {
		return uint64(f.nexact)
	}
	const m = float64(hllRegisters)
	sum, zeros := 0.0, 0
	for _, r := range f.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		// Linear counting is more accurate for small cardinalities.
		est = m * math.Log(m/float64(zeros))
	}
	return min(uint64(math.Round(est)), f.records)
}
