package emulator

// appendEventID appends e's eventId: 56 decimal digits, like the ids AWS returns. The first 15
// digits are the timestamp, the next 20 the server-wide put sequence (which makes ids unique), the
// last 21 a seeded mix of the sequence, so ids look as opaque as AWS's and differ between seeds.
// Computed on the fly from stored fields, ids take no memory and are stable across reads.
func appendEventID(dst []byte, e *storedEvent, secret uint64) []byte {
	ts := e.ts
	if ts < 0 {
		ts = 0
	}
	dst = appendPadded(dst, uint64(ts)%1e15, 15)
	dst = appendPadded(dst, e.seq, 20)
	return appendPadded(dst, mix64(e.seq^secret), 21)
}

// appendPadded appends v in decimal, left-padded with zeros to width digits.
func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [24]byte
	i := len(buf)
	for v > 0 || i == len(buf) {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	return append(dst, buf[i:]...)
}

// mix64 is the splitmix64 finalizer: a cheap bijective scramble of a 64-bit value.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
