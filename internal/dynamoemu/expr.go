//lint:file-ignore ST1005 these messages are DynamoDB's own wording, answered to clients verbatim
package dynamoemu

import (
	"fmt"
	"math/big"
	"strings"
)

// The expression subset (DynamoDB developer guide, "Condition and filter expressions" and
// "Update expressions"):
//
//	condition := or
//	or        := and { OR and }
//	and       := not { AND not }
//	not       := NOT not | primary
//	primary   := ( condition ) | function | operand cmp operand
//	           | operand BETWEEN operand AND operand | operand IN ( operand {, operand} )
//	function  := attribute_exists(path) | attribute_not_exists(path) | begins_with(path, operand)
//	           | contains(path, operand)
//	cmp       := = | <> | < | <= | > | >=
//	operand   := path | :value
//	path      := name | #name   (top-level attributes only)
//	update    := { SET a = v {, a = v} | REMOVE path {, path} | ADD path :v {, path :v} }
//	v         := operand | operand + operand | operand - operand | if_not_exists(path, operand)

type token struct {
	kind string // "name", "op", "eof"
	text string
	pos  int
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':' || isIdent(c):
			j := i + 1
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			if j == i+1 && !isIdent(c) {
				return nil, fmt.Errorf("Syntax error; token: %q, near: %q", s[i:j], s[i:min(len(s), i+8)])
			}
			out = append(out, token{"name", s[i:j], i})
			i = j
		case strings.HasPrefix(s[i:], "<>") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			out = append(out, token{"op", s[i : i+2], i})
			i += 2
		case strings.ContainsRune("=<>(),+-.[]", rune(c)):
			out = append(out, token{"op", s[i : i+1], i})
			i++
		default:
			return nil, fmt.Errorf("Invalid character %q at position %d", c, i)
		}
	}
	return append(out, token{"eof", "", len(s)}), nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parser resolves #names and :values while parsing and records which were used.
type parser struct {
	toks   []token
	i      int
	names  map[string]string
	values map[string]Value
	used   map[string]bool
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(k string) bool {
	t := p.peek()
	if t.kind == "name" && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(op string) error {
	t := p.next()
	if t.kind != "op" || t.text != op {
		return fmt.Errorf("Syntax error; token: %q, near position %d (want %q)", t.text, t.pos, op)
	}
	return nil
}

var reserved = map[string]bool{"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true, "SET": true, "REMOVE": true, "ADD": true, "DELETE": true}

// operand is a resolved path or value.
type operand struct {
	path  string
	value *Value
}

func (p *parser) operand() (operand, error) {
	t := p.next()
	if t.kind != "name" {
		return operand{}, fmt.Errorf("Syntax error; token: %q, near position %d", t.text, t.pos)
	}
	switch t.text[0] {
	case ':':
		v, ok := p.values[t.text]
		if !ok {
			return operand{}, fmt.Errorf("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
		}
		p.used[t.text] = true
		return operand{value: &v}, nil
	case '#':
		n, ok := p.names[t.text]
		if !ok {
			return operand{}, fmt.Errorf("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
		}
		p.used[t.text] = true
		return p.pathEnd(operand{path: n})
	}
	if reserved[strings.ToUpper(t.text)] {
		return operand{}, fmt.Errorf("Attribute name is a reserved keyword; reserved keyword: %s", t.text)
	}
	return p.pathEnd(operand{path: t.text})
}

func (p *parser) pathEnd(o operand) (operand, error) {
	if t := p.peek(); t.kind == "op" && (t.text == "." || t.text == "[") {
		return operand{}, fmt.Errorf("nested document paths are not supported by this emulator (near position %d)", t.pos)
	}
	return o, nil
}

func (p *parser) path() (string, error) {
	o, err := p.operand()
	if err != nil {
		return "", err
	}
	if o.value != nil {
		return "", fmt.Errorf("a document path is required here, not a value")
	}
	return o.path, nil
}

// cond is a parsed condition evaluated against an item (nil when it does not exist).
type cond func(it Item) (bool, error)

func (p *parser) or() (cond, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a := l
		l = func(it Item) (bool, error) {
			x, err := a(it)
			if err != nil || x {
				return x, err
			}
			return r(it)
		}
	}
	return l, nil
}

func (p *parser) and() (cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		a := l
		l = func(it Item) (bool, error) {
			x, err := a(it)
			if err != nil || !x {
				return x, err
			}
			return r(it)
		}
	}
	return l, nil
}

func (p *parser) not() (cond, error) {
	if p.keyword("NOT") {
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(it Item) (bool, error) { x, err := c(it); return !x, err }, nil
	}
	return p.primary()
}

func (p *parser) primary() (cond, error) {
	t := p.peek()
	if t.kind == "op" && t.text == "(" {
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		return c, p.expect(")")
	}
	if t.kind == "name" && p.toks[p.i+1].kind == "op" && p.toks[p.i+1].text == "(" {
		return p.function()
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.keyword("BETWEEN") {
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, fmt.Errorf("Syntax error; BETWEEN needs AND near position %d", p.peek().pos)
		}
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return func(it Item) (bool, error) {
			a, b, c, ok := resolve(it, l), resolve(it, lo), resolve(it, hi), true
			if a == nil || b == nil || c == nil {
				return false, nil
			}
			x, ok1 := compare(*a, *b)
			y, ok2 := compare(*a, *c)
			ok = ok1 && ok2
			return ok && x >= 0 && y <= 0, nil
		}, nil
	}
	if p.keyword("IN") {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var list []operand
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			list = append(list, o)
			if t := p.peek(); t.kind == "op" && t.text == "," {
				p.i++
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return func(it Item) (bool, error) {
			a := resolve(it, l)
			if a == nil {
				return false, nil
			}
			for _, o := range list {
				if b := resolve(it, o); b != nil && equal(*a, *b) {
					return true, nil
				}
			}
			return false, nil
		}, nil
	}
	op := p.next()
	if op.kind != "op" || !strings.Contains("= <> < <= > >=", op.text) || op.text == "" {
		return nil, fmt.Errorf("Syntax error; token: %q, near position %d (want a comparator)", op.text, op.pos)
	}
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	return func(it Item) (bool, error) {
		a, b := resolve(it, l), resolve(it, r)
		if a == nil || b == nil {
			return op.text == "<>" && (a == nil) != (b == nil), nil
		}
		switch op.text {
		case "=":
			return equal(*a, *b), nil
		case "<>":
			return !equal(*a, *b), nil
		}
		c, ok := compare(*a, *b)
		if !ok {
			return false, nil
		}
		switch op.text {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		}
		return c >= 0, nil
	}, nil
}

func (p *parser) function() (cond, error) {
	name := p.next().text
	p.i++ // (
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	var arg operand
	switch name {
	case "attribute_exists", "attribute_not_exists":
	case "begins_with", "contains":
		if err := p.expect(","); err != nil {
			return nil, err
		}
		if arg, err = p.operand(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("Invalid function name; function: %s", name)
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return func(it Item) (bool, error) {
		v, ok := it[path]
		switch name {
		case "attribute_exists":
			return ok, nil
		case "attribute_not_exists":
			return !ok, nil
		}
		a := resolve(it, arg)
		if !ok || a == nil {
			return false, nil
		}
		if name == "begins_with" {
			return v.S != nil && a.S != nil && strings.HasPrefix(*v.S, *a.S), nil
		}
		switch {
		case v.S != nil && a.S != nil:
			return strings.Contains(*v.S, *a.S), nil
		case v.SS != nil && a.S != nil:
			for _, s := range v.SS {
				if s == *a.S {
					return true, nil
				}
			}
		case v.L != nil:
			for _, e := range v.L {
				if equal(e, *a) {
					return true, nil
				}
			}
		}
		return false, nil
	}, nil
}

func resolve(it Item, o operand) *Value {
	if o.value != nil {
		return o.value
	}
	v, ok := it[o.path]
	if !ok {
		return nil
	}
	return &v
}

// exprContext holds the attribute names and values of one request, shared by its expressions,
// so that unused ones can be refused as DynamoDB does.
type exprContext struct {
	names  map[string]string
	values map[string]Value
	used   map[string]bool
}

func newContext(names map[string]string, values map[string]Value) (*exprContext, error) {
	for k, v := range values {
		if !strings.HasPrefix(k, ":") {
			return nil, fmt.Errorf("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
		if err := v.check("ExpressionAttributeValues." + k); err != nil {
			return nil, err
		}
	}
	for k := range names {
		if !strings.HasPrefix(k, "#") {
			return nil, fmt.Errorf("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	return &exprContext{names: names, values: values, used: map[string]bool{}}, nil
}

func (c *exprContext) parser(s string) (*parser, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks, names: c.names, values: c.values, used: c.used}, nil
}

// condition parses a ConditionExpression ("" = always true).
func (c *exprContext) condition(s string) (cond, error) {
	if s == "" {
		return func(Item) (bool, error) { return true, nil }, nil
	}
	p, err := c.parser(s)
	if err != nil {
		return nil, fmt.Errorf("Invalid ConditionExpression: %w", err)
	}
	f, err := p.or()
	if err != nil {
		return nil, fmt.Errorf("Invalid ConditionExpression: %w", err)
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, fmt.Errorf("Invalid ConditionExpression: Syntax error; token: %q, near position %d", t.text, t.pos)
	}
	return f, nil
}

// unused reports names and values given but not used by any expression.
func (c *exprContext) unused() error {
	var vs, ns []string
	for k := range c.values {
		if !c.used[k] {
			vs = append(vs, k)
		}
	}
	for k := range c.names {
		if !c.used[k] {
			ns = append(ns, k)
		}
	}
	switch {
	case len(vs) > 0:
		return fmt.Errorf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(vs, ", "))
	case len(ns) > 0:
		return fmt.Errorf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(ns, ", "))
	}
	return nil
}

// update is a parsed UpdateExpression applied to a copy of the item.
type update func(it Item) error

func (c *exprContext) update(s string, key map[string]bool) (update, error) {
	p, err := c.parser(s)
	if err != nil {
		return nil, fmt.Errorf("Invalid UpdateExpression: %w", err)
	}
	var steps []func(old, out Item) error
	seen := map[string]bool{}
	touched := map[string]bool{}
	touch := func(path string) error {
		if key[path] {
			return fmt.Errorf("Cannot update attribute %s. This attribute is part of the key", path)
		}
		if touched[path] {
			return fmt.Errorf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", path, path)
		}
		touched[path] = true
		return nil
	}
	for p.peek().kind != "eof" {
		t := p.next()
		clause := strings.ToUpper(t.text)
		if t.kind != "name" || (clause != "SET" && clause != "REMOVE" && clause != "ADD" && clause != "DELETE") {
			return nil, fmt.Errorf("Invalid UpdateExpression: Syntax error; token: %q, near position %d", t.text, t.pos)
		}
		if seen[clause] {
			return nil, fmt.Errorf("Invalid UpdateExpression: The %q section can only be used once in an update expression", clause)
		}
		seen[clause] = true
		for {
			path, err := p.path()
			if err != nil {
				return nil, fmt.Errorf("Invalid UpdateExpression: %w", err)
			}
			if err := touch(path); err != nil {
				return nil, fmt.Errorf("Invalid UpdateExpression: %w", err)
			}
			var step func(old, out Item) error
			switch clause {
			case "SET":
				if err := p.expect("="); err != nil {
					return nil, fmt.Errorf("Invalid UpdateExpression: %w", err)
				}
				val, err := p.setValue()
				if err != nil {
					return nil, fmt.Errorf("Invalid UpdateExpression: %w", err)
				}
				step = func(old, out Item) error {
					v, err := val(old)
					if err != nil {
						return err
					}
					out[path] = v
					return nil
				}
			case "REMOVE":
				step = func(_, out Item) error { delete(out, path); return nil }
			case "ADD", "DELETE":
				o, err := p.operand()
				if err != nil || o.value == nil {
					return nil, fmt.Errorf("Invalid UpdateExpression: %s needs a value (:v) after the path", clause)
				}
				v := *o.value
				step = func(_, out Item) error { return addDelete(out, path, v, clause == "ADD") }
			}
			steps = append(steps, step)
			if t := p.peek(); t.kind == "op" && t.text == "," {
				p.i++
				continue
			}
			break
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("Invalid UpdateExpression: The expression can not be empty")
	}
	return func(it Item) error {
		// Every operand reads the item as it was before the update, as DynamoDB evaluates them.
		// (paths never overlap, so ADD and DELETE reading the item they write is the same).
		before := it.clone()
		for _, s := range steps {
			if err := s(before, it); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (p *parser) setValue() (func(Item) (Value, error), error) {
	var first func(Item) (Value, error)
	t := p.peek()
	if t.kind == "name" && t.text == "if_not_exists" {
		p.i++
		if err := p.expect("("); err != nil {
			return nil, err
		}
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		def, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		first = func(it Item) (Value, error) {
			if v, ok := it[path]; ok {
				return v, nil
			}
			if v := resolve(it, def); v != nil {
				return *v, nil
			}
			return Value{}, fmt.Errorf("The provided expression refers to an attribute that does not exist in the item")
		}
	} else {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		first = func(it Item) (Value, error) {
			if v := resolve(it, o); v != nil {
				return *v, nil
			}
			return Value{}, fmt.Errorf("The provided expression refers to an attribute that does not exist in the item")
		}
	}
	t = p.peek()
	if t.kind != "op" || (t.text != "+" && t.text != "-") {
		return first, nil
	}
	p.i++
	o, err := p.operand()
	if err != nil {
		return nil, err
	}
	return func(it Item) (Value, error) {
		a, err := first(it)
		if err != nil {
			return Value{}, err
		}
		b := resolve(it, o)
		if b == nil {
			return Value{}, fmt.Errorf("The provided expression refers to an attribute that does not exist in the item")
		}
		if a.N == nil || b.N == nil {
			return Value{}, fmt.Errorf("An operand in the update expression has an incorrect data type")
		}
		x, _ := parseNumber(*a.N)
		y, _ := parseNumber(*b.N)
		r := new(big.Rat)
		if t.text == "+" {
			r.Add(x, y)
		} else {
			r.Sub(x, y)
		}
		s := formatRat(r)
		return Value{N: &s}, nil
	}, nil
}

func formatRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return strings.TrimRight(strings.TrimRight(r.FloatString(38), "0"), ".")
}

func addDelete(it Item, path string, v Value, add bool) error {
	cur, ok := it[path]
	switch {
	case v.N != nil && add:
		if !ok {
			it[path] = v
			return nil
		}
		if cur.N == nil {
			return fmt.Errorf("An operand in the update expression has an incorrect data type")
		}
		x, _ := parseNumber(*cur.N)
		y, _ := parseNumber(*v.N)
		s := formatRat(new(big.Rat).Add(x, y))
		it[path] = Value{N: &s}
		return nil
	case v.SS != nil:
		if ok && cur.SS == nil {
			return fmt.Errorf("An operand in the update expression has an incorrect data type")
		}
		out := setOp(cur.SS, v.SS, add)
		if len(out) == 0 {
			delete(it, path)
		} else {
			it[path] = Value{SS: out}
		}
		return nil
	case v.NS != nil:
		if ok && cur.NS == nil {
			return fmt.Errorf("An operand in the update expression has an incorrect data type")
		}
		out := setOp(cur.NS, v.NS, add)
		if len(out) == 0 {
			delete(it, path)
		} else {
			it[path] = Value{NS: out}
		}
		return nil
	}
	return fmt.Errorf("Incorrect operand type for operator or function; operator: %s", map[bool]string{true: "ADD", false: "DELETE"}[add])
}

func setOp(cur, v []string, add bool) []string {
	out := []string{}
	in := map[string]bool{}
	for _, s := range v {
		in[s] = true
	}
	for _, s := range cur {
		if add || !in[s] {
			out = append(out, s)
		}
		delete(in, s)
	}
	if add {
		for _, s := range v {
			if in[s] {
				out = append(out, s)
				delete(in, s)
			}
		}
	}
	return out
}
