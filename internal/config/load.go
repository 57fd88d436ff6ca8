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

// LoadFile reads, decodes and validates the file at path.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
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
			if n.Alias != nil {
				walk(n.Alias, path)
			}
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
