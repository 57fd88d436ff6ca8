package dynamoemu

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Value is a DynamoDB AttributeValue in its JSON wire form; exactly one field is set.
type Value struct {
	S    *string          `json:"S,omitempty"`
	N    *string          `json:"N,omitempty"`
	B    []byte           `json:"B,omitempty"`
	SS   []string         `json:"SS,omitempty"`
	NS   []string         `json:"NS,omitempty"`
	BS   [][]byte         `json:"BS,omitempty"`
	BOOL *bool            `json:"BOOL,omitempty"`
	NULL *bool            `json:"NULL,omitempty"`
	L    []Value          `json:"L,omitempty"`
	M    map[string]Value `json:"M,omitempty"`
}

// Item is an item: attribute name to value.
type Item map[string]Value

func (v Value) kind() string {
	switch {
	case v.S != nil:
		return "S"
	case v.N != nil:
		return "N"
	case v.B != nil:
		return "B"
	case v.SS != nil:
		return "SS"
	case v.NS != nil:
		return "NS"
	case v.BS != nil:
		return "BS"
	case v.BOOL != nil:
		return "BOOL"
	case v.NULL != nil:
		return "NULL"
	case v.L != nil:
		return "L"
	case v.M != nil:
		return "M"
	}
	return ""
}

// check validates a value as DynamoDB does (one type, numbers that parse, non-empty sets
// without duplicates).
func (v Value) check(path string) error {
	n := 0
	for _, set := range []bool{v.S != nil, v.N != nil, v.B != nil, v.SS != nil, v.NS != nil, v.BS != nil, v.BOOL != nil, v.NULL != nil, v.L != nil, v.M != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: an AttributeValue must have exactly one type, has %d", path, n)
	}
	if v.N != nil {
		if _, ok := parseNumber(*v.N); !ok {
			return fmt.Errorf("%s: the number %q is not valid", path, *v.N)
		}
	}
	for _, n := range v.NS {
		if _, ok := parseNumber(n); !ok {
			return fmt.Errorf("%s: the number %q is not valid", path, n)
		}
	}
	if (v.SS != nil && len(v.SS) == 0) || (v.NS != nil && len(v.NS) == 0) || (v.BS != nil && len(v.BS) == 0) {
		return fmt.Errorf("%s: an empty set is not allowed", path)
	}
	if hasDup(v.SS) || hasDup(v.NS) {
		return fmt.Errorf("%s: input collection contains duplicates", path)
	}
	for i, e := range v.L {
		if err := e.check(fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	for k, e := range v.M {
		if err := e.check(path + "." + k); err != nil {
			return err
		}
	}
	return nil
}

func hasDup(s []string) bool {
	c := slices.Clone(s)
	slices.Sort(c)
	for i := 1; i < len(c); i++ {
		if c[i] == c[i-1] {
			return true
		}
	}
	return false
}

func parseNumber(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// compare orders two scalar values of the same type; ok is false for other pairs.
func compare(a, b Value) (int, bool) {
	switch {
	case a.S != nil && b.S != nil:
		return strings.Compare(*a.S, *b.S), true
	case a.N != nil && b.N != nil:
		x, _ := parseNumber(*a.N)
		y, _ := parseNumber(*b.N)
		return x.Cmp(y), true
	case a.B != nil && b.B != nil:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}

// equal is DynamoDB's "=": same type and value (sets as sets, numbers by value).
func equal(a, b Value) bool {
	if a.kind() != b.kind() {
		return false
	}
	if c, ok := compare(a, b); ok {
		return c == 0
	}
	switch {
	case a.BOOL != nil:
		return *a.BOOL == *b.BOOL
	case a.NULL != nil:
		return true
	case a.SS != nil:
		return sameSet(a.SS, b.SS, func(x, y string) bool { return x == y })
	case a.NS != nil:
		return sameSet(a.NS, b.NS, func(x, y string) bool { c, _ := compare(num(x), num(y)); return c == 0 })
	case a.BS != nil:
		return sameSet(a.BS, b.BS, bytes.Equal)
	case a.L != nil:
		return slices.EqualFunc(a.L, b.L, equal)
	case a.M != nil:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, v := range a.M {
			w, ok := b.M[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func num(s string) Value { return Value{N: &s} }

func sameSet[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y T) bool { return eq(x, y) }) {
			return false
		}
	}
	return true
}

// clone deep-copies an item so stored state never aliases a request or an answer.
func (it Item) clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.clone()
	}
	return out
}

func (v Value) clone() Value {
	out := Value{BOOL: v.BOOL, NULL: v.NULL, S: v.S, N: v.N}
	if v.B != nil {
		out.B = slices.Clone(v.B)
	}
	if v.SS != nil {
		out.SS = slices.Clone(v.SS)
	}
	if v.NS != nil {
		out.NS = slices.Clone(v.NS)
	}
	if v.BS != nil {
		out.BS = make([][]byte, len(v.BS))
		for i, b := range v.BS {
			out.BS[i] = slices.Clone(b)
		}
	}
	if v.L != nil {
		out.L = make([]Value, len(v.L))
		for i, e := range v.L {
			out.L[i] = e.clone()
		}
	}
	if v.M != nil {
		out.M = make(map[string]Value, len(v.M))
		for k, e := range v.M {
			out.M[k] = e.clone()
		}
	}
	return out
}
