package train

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/matapprox/matapprox/internal/choice"
)

// Key describes one configuration key: its name (the YAML key and the flag
// of `matapprox train`), the help section it belongs to and its one-line
// description, all read from the tags of Config's field.
type Key struct {
	Name  string
	Group string // one of Groups
	Doc   string
	field int
	kind  reflect.Kind
}

// Groups are the sections of `matapprox train -h`, in order.
var Groups = []string{"problem", "data", "network", "optimizer", "schedule", "run"}

var configKeys = func() []Key {
	t := reflect.TypeOf(Config{})
	keys := make([]Key, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		k := Key{Name: strings.Split(f.Tag.Get("yaml"), ",")[0], Group: f.Tag.Get("group"), Doc: f.Tag.Get("doc"), field: i, kind: f.Type.Kind()}
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.Int {
			panic("train: Config." + f.Name + ": only lists of int are supported")
		}
		keys = append(keys, k)
	}
	return keys
}()

// Keys returns the YAML keys of Config in declaration order.
func Keys() []string {
	names := make([]string, len(configKeys))
	for i, k := range configKeys {
		names[i] = k.Name
	}
	return names
}

// ConfigKeys returns every configuration key in declaration order.
func ConfigKeys() []Key { return append([]Key(nil), configKeys...) }

// LookupKey returns the key named name.
func LookupKey(name string) (Key, bool) {
	for _, k := range configKeys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// unknownKey is the error for a key that does not exist.
func unknownKey(name string, at Origin) *ConfigError {
	return &ConfigError{Origin: at, Key: name, Reason: "unknown key", unknown: true,
		Want: "the keys are " + strings.Join(Keys(), ", "), Suggestion: choice.Closest(name, Keys())}
}

// IsBool reports whether the key holds true or false.
func (k Key) IsBool() bool { return k.kind == reflect.Bool }

// Type names the kind of value the key holds, as help shows it: "int",
// "float", "bool", "list" or "string"; for a key with named choices, the
// names joined by "|".
func (k Key) Type() string {
	switch k.kind {
	case reflect.Int, reflect.Uint64:
		return "int"
	case reflect.Float64:
		return "float"
	case reflect.Bool:
		return "bool"
	case reflect.Slice:
		return "list"
	}
	if names := Choices(k.Name); names != nil {
		s := strings.Join(names, "|")
		if fileChoices[k.Name] {
			s += "|FILE"
		}
		return s
	}
	return "string"
}

// Value returns the key's value in c as text that Set accepts.
func (k Key) Value(c *Config) string {
	v := reflect.ValueOf(c).Elem().Field(k.field)
	switch k.kind {
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = strconv.FormatInt(v.Index(i).Int(), 10)
		}
		return strings.Join(parts, ",")
	}
	return v.String()
}

// isZero reports whether the key holds its zero value in c.
func (k Key) isZero(c *Config) bool {
	v := reflect.ValueOf(c).Elem().Field(k.field)
	if k.kind == reflect.Slice {
		return v.Len() == 0
	}
	return v.IsZero()
}

func (k Key) clear(c *Config) {
	f := reflect.ValueOf(c).Elem().Field(k.field)
	f.Set(reflect.Zero(f.Type()))
}

// Set parses text as the key's value and stores it in c. Integers are
// decimal digits (no fraction, exponent, leading zero or wrap-around),
// numbers are decimal floats, booleans are true or false (any case), lists
// are comma-separated integers (brackets optional), and names of a choice
// are matched ignoring case and stored as the registry spells them. A bad
// value is a *ConfigError without an Origin, and c is unchanged.
func (k Key) Set(c *Config, text string) error {
	s := strings.TrimSpace(text)
	bad := func(reason string) error {
		e := &ConfigError{Key: k.Name, Value: text, Reason: reason}
		if r, ok := rules[k.Name]; ok {
			_, e.Want = r(c)
		}
		return e
	}
	v := reflect.ValueOf(c).Elem().Field(k.field)
	switch k.kind {
	case reflect.Int:
		n, err := parseInt(s)
		if err != "" {
			return bad(err)
		}
		v.SetInt(n)
	case reflect.Uint64:
		if strings.HasPrefix(s, "-") {
			return bad("negative")
		}
		if err := checkDigits(strings.TrimPrefix(s, "+")); err != "" {
			return bad(err)
		}
		n, e := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64)
		if e != nil {
			return bad("out of range")
		}
		v.SetUint(n)
	case reflect.Float64:
		f, e := strconv.ParseFloat(s, 64)
		if e != nil || strings.ContainsAny(s, "xX_") || !finite(f) {
			return bad("not a finite decimal number")
		}
		v.SetFloat(f)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return &ConfigError{Key: k.Name, Value: text, Reason: "not a boolean", Want: "true or false"}
		}
	case reflect.Slice:
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
		var list []int
		if s != "" {
			for _, p := range strings.Split(s, ",") {
				n, err := parseInt(strings.TrimSpace(p))
				if err != "" {
					return bad(fmt.Sprintf("%q: %s", strings.TrimSpace(p), err))
				}
				list = append(list, int(n))
			}
		}
		v.Set(reflect.ValueOf(list))
	case reflect.String:
		if r, ok := choices[k.Name]; ok && s != "" { // "" is unset; Validate rejects it where it applies
			if name, ok := r.canonical(s); ok {
				s = name
			} else if !fileChoices[k.Name] || !looksLikePath(s) {
				return c.choiceError(k.Name, text)
			}
		}
		v.SetString(s)
	default:
		return fmt.Errorf("train: key %s has an unsupported type", k.Name)
	}
	return nil
}

// parseInt parses a decimal integer; the error is a reason, "" for none.
func parseInt(s string) (int64, string) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 {
		return 0, "not an integer"
	}
	if err := checkDigits(digits); err != "" {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 0)
	if err != nil {
		return 0, "out of range"
	}
	return n, ""
}

// checkDigits accepts decimal digits without a leading zero.
func checkDigits(s string) string {
	if s == "" {
		return "no value"
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "not an integer"
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return "not an integer (a leading zero; write it without)"
	}
	return ""
}

// Builder resolves a configuration in layers — a base (usually a preset),
// then files, then single settings such as flags — and remembers where
// each key was set, so that every error, including a range or consistency
// error found only when the layers are combined, names the file and line or
// the flag. Set it up with NewBuilder.
type Builder struct {
	cfg    Config
	origin map[string]Origin
}

// NewBuilder returns a Builder starting from base.
func NewBuilder(base Config) *Builder {
	base.Hidden = append([]int(nil), base.Hidden...)
	return &Builder{cfg: base, origin: map[string]Origin{}}
}

// Set sets key to the text value, recording at as its origin.
func (b *Builder) Set(key, value string, at Origin) error {
	k, ok := LookupKey(key)
	if !ok {
		return unknownKey(key, at)
	}
	if err := k.Set(&b.cfg, value); err != nil {
		if ce, ok := err.(*ConfigError); ok {
			ce.Origin = at
		}
		return err
	}
	b.origin[key] = at
	return nil
}

// Origin returns where key was set; ok is false for a key that keeps the
// base's value.
func (b *Builder) Origin(key string) (at Origin, ok bool) {
	at, ok = b.origin[key]
	return at, ok
}

// Current returns the configuration as set so far, unvalidated.
func (b *Builder) Current() Config {
	c := b.cfg
	c.Hidden = append([]int(nil), c.Hidden...)
	return c
}

// Config returns the resolved configuration. A key that was set explicitly
// to a value other than zero where it does not apply (momentum with Adam,
// drop-factor with a cosine schedule, probes with the Frobenius loss) is an
// error that says why; one inherited from the base is reset to zero, so
// that the result says only what matters. The result is then validated,
// and an invalid key's error carries the origin of that key.
func (b *Builder) Config() (Config, error) {
	c := b.Current()
	for _, k := range configKeys {
		ok, why := c.Applies(k.Name)
		if ok || k.isZero(&c) {
			continue
		}
		at, set := b.origin[k.Name]
		if !set {
			k.clear(&c)
			continue
		}
		return Config{}, &ConfigError{Origin: at, Key: k.Name, Value: k.Value(&c),
			Reason: "does not apply: " + why + " (remove it or set it to 0)"}
	}
	if err := c.Validate(); err != nil {
		if ce, ok := err.(*ConfigError); ok {
			at, set := b.origin[ce.Key]
			ce.Origin = at
			if !set {
				// An inherited value made invalid by a key that was set:
				// point at that key.
				for _, dep := range dependsOn[ce.Key] {
					if at, ok := b.origin[dep]; ok {
						k, _ := LookupKey(dep)
						ce.Origin = at
						ce.Reason = fmt.Sprintf("the inherited value does not fit %s = %s", dep, k.Value(&c))
						break
					}
				}
			}
		}
		return Config{}, err
	}
	return c, nil
}

// dependsOn lists, for the keys whose valid range depends on other keys,
// those keys.
var dependsOn = map[string][]string{
	"in-band":    {"n"},
	"out-band":   {"in-band", "n"},
	"warm-start": {"epochs"},
	"nesterov":   {"momentum", "optimizer"},
	"probes":     {"loss"},
	"num-probes": {"loss", "probes"},
}
