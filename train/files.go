package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
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

// Keys returns the YAML keys of Config in declaration order.
func Keys() []string {
	t := reflect.TypeOf(Config{})
	keys := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		keys = append(keys, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	return keys
}

var (
	yamlField = regexp.MustCompile(`line (\d+): field (\S+) not found`)
	yamlType  = regexp.MustCompile("line (\\d+): cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

func typeWord(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "list of integers, e.g. [100, 100]"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "integer"
	case strings.HasPrefix(goType, "float"):
		return "number"
	case goType == "bool":
		return "boolean (true or false)"
	}
	return goType
}

// ParseConfig decodes YAML onto base (so that keys absent from the file keep
// base's values). Unknown keys, wrong types and malformed YAML are errors
// that name the file and line; the result is not validated.
func ParseConfig(src []byte, name string, base Config) (Config, error) {
	c := base
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		msg := err.Error()
		if m := yamlField.FindStringSubmatch(msg); m != nil {
			keys := Keys()
			sort.Strings(keys)
			return Config{}, fmt.Errorf("%s:%s: unknown key %q; valid keys are %s: %w", name, m[1], m[2], strings.Join(keys, ", "), ErrConfig)
		}
		if m := yamlType.FindStringSubmatch(msg); m != nil {
			key := "?"
			lines := strings.Split(string(src), "\n")
			if i, _ := strconv.Atoi(m[1]); i >= 1 && i <= len(lines) {
				key, _, _ = strings.Cut(strings.TrimSpace(lines[i-1]), ":")
			}
			return Config{}, fmt.Errorf("%s:%s: %s: %q is not a valid %s: %w", name, m[1], key, m[3], typeWord(m[4]), ErrConfig)
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
		return Config{}, fmt.Errorf("%s: %s (keys and values as `key: value`, lists as [a, b]): %w", name, msg, ErrConfig)
	}
	return c, nil
}

// MaxConfigSize bounds the size of a configuration file that LoadConfig
// reads, so that -config /dev/zero or a huge file fails at once.
const MaxConfigSize = 1 << 20

// LoadConfig reads a YAML configuration file onto base.
func LoadConfig(path string, base Config) (Config, error) {
	src, err := readBounded(path, MaxConfigSize)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(src, path, base)
}

// MarshalConfig returns c as YAML, every key present.
func MarshalConfig(c *Config) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		panic("train: encoding a Config cannot fail: " + err.Error())
	}
	return b.Bytes()
}

// WriteConfig writes c as YAML to path atomically.
func WriteConfig(path string, c *Config) error {
	return atomicfile.WriteFile(path, MarshalConfig(c), 0o644)
}
