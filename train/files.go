package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/matapprox/matapprox/internal/atomicfile"
)

// Names of the files in a run directory.
const (
	ConfigFile     = "config.yaml"       // the resolved configuration
	MetricsFile    = "metrics.jsonl"     // one EpochStats per line
	CheckpointFile = "checkpoint.bin"    // the last checkpoint, for -resume
	ModelFile      = "model.safetensors" // the final weights (+ config.json)
	BestFile       = "best"              // directory with the best-validation model
	SummaryFile    = "summary.json"      // written last: the run is complete
)

// ParseConfig decodes YAML onto base (so that keys absent from the file keep
// base's values). Unknown keys, wrong types, repeated keys and malformed
// YAML are *ConfigErrors that name the file and line; the result is not
// validated (see Builder.Config for that).
func ParseConfig(src []byte, name string, base Config) (Config, error) {
	b := NewBuilder(base)
	if err := b.ReadYAML(src, name); err != nil {
		return Config{}, err
	}
	return b.Current(), nil
}

// ReadYAML sets the keys of a YAML mapping (src, read from the file name),
// each with the file and line as its origin. Every value is parsed by
// Key.Set, as a flag's is.
func (b *Builder) ReadYAML(src []byte, name string) error {
	fileErr := func(line int, reason string) error {
		return &ConfigError{Origin: Origin{File: name, Line: line}, Reason: reason}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		line, msg := yamlErrorLine(err)
		return fileErr(line, msg+" (write keys and values as `key: value`, lists as [a, b])")
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fileErr(extra.Line, "more than one YAML document; a configuration is one mapping of keys to values")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return fileErr(doc.Line, "not a YAML mapping of keys to values")
	}
	m := doc.Content[0]
	if m.Kind == yaml.ScalarNode && m.Tag == "!!null" {
		return nil // only comments
	}
	if m.Kind != yaml.MappingNode {
		return fileErr(m.Line, "not a mapping of keys to values (write `key: value`, one per line)")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, vn := m.Content[i], m.Content[i+1]
		at := Origin{File: name, Line: kn.Line}
		if kn.Kind != yaml.ScalarNode {
			return fileErr(kn.Line, "a key must be a plain name")
		}
		key := kn.Value
		if _, ok := LookupKey(key); !ok {
			return unknownKey(key, at)
		}
		if first, dup := seen[key]; dup {
			return &ConfigError{Origin: at, Key: key, Value: vn.Value, Reason: fmt.Sprintf("repeated (first set on line %d)", first)}
		}
		seen[key] = kn.Line
		text, err := nodeText(key, vn, name)
		if err != nil {
			return err
		}
		if err := b.Set(key, text, Origin{File: name, Line: vn.Line}); err != nil {
			return err
		}
	}
	return nil
}

// nodeText returns the text of a value node: a scalar's text, or a
// sequence of scalars joined by commas (for lists).
func nodeText(key string, n *yaml.Node, file string) (string, error) {
	at := Origin{File: file, Line: n.Line}
	k, _ := LookupKey(key)
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias != nil {
			return nodeText(key, n.Alias, file)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			e := &ConfigError{Origin: at, Key: key, Reason: "no value"}
			if r, ok := rules[key]; ok {
				c := Config{}
				_, e.Want = r(&c)
			}
			return "", e
		}
		return n.Value, nil
	case yaml.SequenceNode:
		if k.kind != reflect.Slice {
			return "", &ConfigError{Origin: at, Key: key, Value: "[…]", Reason: "a list where one value belongs"}
		}
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return "", &ConfigError{Origin: Origin{File: file, Line: c.Line}, Key: key, Reason: "a list of integers must hold plain integers"}
			}
			parts[i] = c.Value
		}
		return strings.Join(parts, ","), nil
	}
	return "", &ConfigError{Origin: at, Key: key, Reason: "a mapping where a value belongs (write `key: value`)"}
}

// yamlErrorLine splits "yaml: line N: msg" into N and msg.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, tail, ok := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); ok && err == nil {
			return n, tail
		}
	}
	return 0, msg
}

// MaxConfigSize bounds the size of a configuration file that LoadConfig
// reads, so that -config /dev/zero or a huge file fails at once.
const MaxConfigSize = 1 << 20

// ReadConfigFile returns the bytes of the configuration file path, refusing
// a file (or a device such as /dev/zero) larger than MaxConfigSize.
func ReadConfigFile(path string) ([]byte, error) { return readBounded(path, MaxConfigSize) }

// LoadConfig reads a YAML configuration file onto base.
func LoadConfig(path string, base Config) (Config, error) {
	b := NewBuilder(base)
	if err := b.ReadFile(path); err != nil {
		return Config{}, err
	}
	return b.Current(), nil
}

// ReadFile reads the YAML file path (at most MaxConfigSize bytes) with
// ReadYAML.
func (b *Builder) ReadFile(path string) error {
	src, err := readBounded(path, MaxConfigSize)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return b.ReadYAML(src, path)
}

// MarshalConfig returns c as YAML, one `key: value` line per key in
// declaration order, every key present; ParseConfig reads it back to c.
func MarshalConfig(c *Config) []byte {
	var b bytes.Buffer
	for _, k := range configKeys {
		v := k.Value(c)
		switch k.kind {
		case reflect.Slice:
			v = "[" + strings.ReplaceAll(v, ",", ", ") + "]"
		case reflect.String:
			q, err := yaml.Marshal(v)
			if err != nil {
				panic("train: encoding a string as YAML cannot fail: " + err.Error())
			}
			v = strings.TrimSpace(string(q))
		}
		fmt.Fprintf(&b, "%s: %s\n", k.Name, v)
	}
	return b.Bytes()
}

// WriteConfig writes c as YAML to path atomically.
func WriteConfig(path string, c *Config) error {
	return atomicfile.WriteFile(path, MarshalConfig(c), 0o644)
}
