package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes bounds the config file: a real one is a few kilobytes; anything past this is
// refused before it is parsed, so no file can make loading slow or large.
const MaxFileBytes = 1 << 20

// MaxYAMLNodes bounds the YAML nodes of a file with its aliases expanded. A config uses anchors
// (if at all) to share a few source settings; nested aliases that expand exponentially (a
// "billion laughs" file) are refused before anything expands them.
const MaxYAMLNodes = 100_000

// LoadFile reads, decodes and validates the file at path (at most MaxFileBytes).
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	_ = f.Close() // read-only: a close error changes nothing
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Load decodes data strictly over the defaults, validates it and returns the runtime form.
// Decoding errors (unknown keys, wrong types) stop before validation; validation errors are
// all reported together.
func Load(data []byte) (*Config, error) {
	f, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return f.Validate()
}

// Decode decodes data strictly over Default(). Unknown keys and values of the wrong type are
// reported with their line and YAML path.
func Decode(data []byte) (File, error) {
	f := Default()
	if len(data) > MaxFileBytes {
		return f, fmt.Errorf("the file is larger than %d bytes: a flowd config is a few kilobytes; is this the right file?", MaxFileBytes)
	}
	if err := checkExpansion(data); err != nil {
		return f, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return f, errors.New("the file is empty: name at least one source (see configs/minimal.yaml)")
		}
		return f, explainDecodeError(data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return f, errors.New("the file holds more than one YAML document: keep one")
	}
	return f, nil
}

// checkExpansion parses data into nodes (which expands nothing) and counts the nodes the aliases
// would expand to, each anchor's size computed once, refusing more than MaxYAMLNodes.
func checkExpansion(data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil // the decoder reports syntax errors with their lines
	}
	sizes := map[*yaml.Node]int{}
	var size func(n *yaml.Node, depth int) int
	size = func(n *yaml.Node, depth int) int {
		if s, ok := sizes[n]; ok {
			return s
		}
		if depth > 1000 {
			return MaxYAMLNodes + 1 // nested deeper than any config
		}
		s := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			s += size(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			s += size(c, depth+1)
			if s > MaxYAMLNodes {
				break
			}
		}
		sizes[n] = min(s, MaxYAMLNodes+1)
		return sizes[n]
	}
	if size(&root, 0) > MaxYAMLNodes {
		return fmt.Errorf("the file expands to more than %d YAML nodes (nested anchors and aliases?): refused", MaxYAMLNodes)
	}
	return nil
}

var (
	lineRE         = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
)

// explainDecodeError rewrites yaml's messages ("line 3: field foo not found in type
// config.SourceFile") into ones naming the YAML path and the valid keys.
func explainDecodeError(data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("yaml: %w", err)
	}
	paths := pathsByLine(data)
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		m := lineRE.FindStringSubmatch(msg)
		if m == nil {
			errs = append(errs, errors.New(msg))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		rest := m[2]
		if u := unknownFieldRE.FindStringSubmatch(rest); u != nil {
			path := paths.key(line, u[1])
			valid := validKeys(u[2])
			errs = append(errs, &FieldError{Path: path, Line: line,
				Msg: fmt.Sprintf("unknown key %q (valid keys here: %s)", u[1], strings.Join(valid, ", "))})
			continue
		}
		errs = append(errs, &FieldError{Path: paths.value(line), Line: line, Msg: rest})
	}
	return errors.Join(errs...)
}

// linePaths maps source lines to the YAML paths of the keys and values on them.
type linePaths struct {
	keys   map[int][]string // line -> paths of the mapping keys on it
	values map[int]string   // line -> path of the first scalar value on it
}

func (p linePaths) key(line int, name string) string {
	for _, k := range p.keys[line] {
		if k == name || strings.HasSuffix(k, "."+name) {
			return k
		}
	}
	return name
}

func (p linePaths) value(line int) string {
	if v, ok := p.values[line]; ok {
		return v
	}
	return fmt.Sprintf("line %d", line)
}

func pathsByLine(data []byte) linePaths {
	p := linePaths{keys: map[int][]string{}, values: map[int]string{}}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return p
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				kp := k.Value
				if path != "" {
					kp = path + "." + k.Value
				}
				p.keys[k.Line] = append(p.keys[k.Line], kp)
				walk(v, kp)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.ScalarNode:
			if _, ok := p.values[n.Line]; !ok {
				p.values[n.Line] = path
			}
		case yaml.AliasNode:
			// Not followed: the anchored lines were walked where they are written, and
			// following aliases would make this exponential in nested anchors.
		}
	}
	walk(&root, "")
	return p
}

// validKeys lists the YAML keys of the config type yaml named in its error.
func validKeys(typeName string) []string {
	types := []reflect.Type{
		reflect.TypeFor[File](), reflect.TypeFor[SourceFile](), reflect.TypeFor[IngestFile](),
		reflect.TypeFor[CheckpointFile](), reflect.TypeFor[AggregateFile](),
	}
	for _, t := range types {
		if t.String() != typeName {
			continue
		}
		keys := make([]string, 0, t.NumField())
		for i := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			keys = append(keys, tag)
		}
		sort.Strings(keys)
		return keys
	}
	return nil
}
