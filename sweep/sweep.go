// Package sweep expands a grid of training configurations into trials with
// deterministic names and seeds, and summarises the run directories the
// trials leave into one table.
//
// # Grid files
//
// A grid file is YAML with these top-level keys, all optional:
//
//	preset: seed            # the configuration every trial starts from (default "default")
//	config:                 # keys set for every trial (the keys of `matapprox train`)
//	  epochs: 5
//	grid:                   # every combination; the first key varies slowest
//	  lr: [0.01, 0.003]
//	  hidden: [[32], [64, 64]]
//	list:                   # explicit points; with a grid, every point × every grid combination
//	  - {loss: probe}
//	  - {loss: frobenius, out-band: 2}
//	repeats: 3              # each point with seeds seed, seed+1, seed+2
//
// Trials are numbered in expansion order: list points outermost, then the
// grid keys in the order written, then the repeats. A trial's name is its
// zero-padded number followed by its settings ("003-lr_0.003-hidden_64x64",
// without "=", which metric collectors would read as a metric), so names
// sort in trial order and say what a trial is. Unless the grid
// varies "seed" or asks for repeats, every trial uses the seed of the base
// configuration: trials that differ in one key then share their data and
// initialisation (common random numbers), which makes their comparison
// less noisy. Nothing depends on the time, the machine or the shard that
// runs a trial.
package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/matapprox/matapprox/train"
)

// ErrGrid reports an invalid grid file.
var ErrGrid = errors.New("invalid grid")

// MaxTrials is the largest number of trials a grid may expand to.
const MaxTrials = 100_000

// Setting is one configuration key of a trial and its value as written in
// the grid file (lists as "[a, b]").
type Setting struct {
	Key, Value string
}

// Trial is one configuration of a sweep.
type Trial struct {
	// Index is the 0-based position in expansion order.
	Index int
	// Name is unique in the sweep and safe as a directory name.
	Name string
	// Settings are the keys the grid, the list and the repeats set, in
	// expansion order.
	Settings []Setting
	// Config is the complete, validated configuration.
	Config train.Config
}

// Grid is a parsed grid file.
type Grid struct {
	// Name is the file name, used in messages.
	Name string
	// Base is the preset with the config section applied.
	Base train.Config
	// Keys are the keys trials vary, in expansion order.
	Keys []string

	axes    []axis
	list    [][]pair
	repeats int
}

// pair is one key and its value node.
type pair struct {
	key *yaml.Node
	val *yaml.Node
}

type axis struct {
	key  *yaml.Node
	vals []*yaml.Node
}

// Parse reads a grid file; name prefixes error messages, which give the
// line. Unknown keys, wrong types and empty axes are errors wrapping
// ErrGrid (and train.ErrConfig for configuration keys).
func Parse(src []byte, name string) (*Grid, error) {
	fail := func(n *yaml.Node, format string, args ...any) (*Grid, error) {
		line := 0
		if n != nil {
			line = n.Line
		}
		return nil, fmt.Errorf("%s:%d: "+format+": %w", append(append([]any{name, line}, args...), ErrGrid)...)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, strings.TrimPrefix(err.Error(), "yaml: "), ErrGrid)
	}
	g := &Grid{Name: name, repeats: 1}
	if len(doc.Content) == 0 {
		return fail(nil, "empty grid file: give at least a grid or a list (see matapprox sweep -h)")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return fail(top, "a grid file is a mapping of preset, config, grid, list and repeats")
	}
	preset := "default"
	var config, grid, list *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if seen[k.Value] {
			return fail(k, "%s appears twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "preset":
			preset = v.Value
		case "config":
			config = v
		case "grid":
			grid = v
		case "list":
			list = v
		case "repeats":
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 1 || n > MaxTrials {
				return fail(v, "repeats %q: want an integer between 1 and %d", v.Value, MaxTrials)
			}
			g.repeats = n
		default:
			return fail(k, "unknown key %q: the keys of a grid file are preset, config, grid, list and repeats", k.Value)
		}
	}
	base, err := train.Preset(preset)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, top.Line, err)
	}
	fixed := map[string]bool{}
	if config != nil {
		pairs, err := mapping(config, name, "config")
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			if base, err = apply(base, p, name); err != nil {
				return nil, err
			}
			fixed[p.key.Value] = true
		}
	}
	g.Base = base
	varied := map[string]int{} // key → line where it is first varied
	addKey := func(k *yaml.Node, where string) error {
		if fixed[k.Value] {
			_, err := fail(k, "%s is set in config and varied in %s: remove one", k.Value, where)
			return err
		}
		if _, ok := varied[k.Value]; !ok {
			varied[k.Value] = k.Line
			g.Keys = append(g.Keys, k.Value)
		}
		return nil
	}
	if list != nil {
		if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
			return fail(list, "list: want a non-empty list of mappings, e.g. [{loss: probe}, {loss: frobenius}]")
		}
		for _, item := range list.Content {
			pairs, err := mapping(item, name, "list entry")
			if err != nil {
				return nil, err
			}
			for _, p := range pairs {
				if err := addKey(p.key, "list"); err != nil {
					return nil, err
				}
			}
			g.list = append(g.list, pairs)
		}
	}
	if grid != nil {
		pairs, err := mapping(grid, name, "grid")
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			if p.val.Kind != yaml.SequenceNode || len(p.val.Content) == 0 {
				return fail(p.val, "grid key %s: want a non-empty list of values, e.g. %s: [a, b]", p.key.Value, p.key.Value)
			}
			if _, ok := varied[p.key.Value]; ok {
				return fail(p.key, "%s is varied in both list and grid: vary it in one", p.key.Value)
			}
			if err := addKey(p.key, "grid"); err != nil {
				return nil, err
			}
			g.axes = append(g.axes, axis{key: p.key, vals: p.val.Content})
		}
	}
	if g.repeats > 1 {
		if _, ok := varied["seed"]; ok || fixed["seed"] {
			return fail(top, "repeats derives the seeds from the base seed; remove repeats or the seed key")
		}
		g.Keys = append(g.Keys, "seed")
	}
	if g.list == nil && g.axes == nil && g.repeats == 1 {
		return fail(top, "nothing to sweep: give a grid, a list or repeats")
	}
	if n := g.count(); n > MaxTrials {
		return fail(top, "the grid expands to %d trials, more than %d", n, MaxTrials)
	}
	return g, nil
}

// count returns the number of trials, saturating above MaxTrials.
func (g *Grid) count() int {
	n := max(1, len(g.list)) * g.repeats
	for _, a := range g.axes {
		n *= len(a.vals)
		if n > MaxTrials {
			return MaxTrials + 1
		}
	}
	return n
}

// mapping returns the key-value pairs of a mapping node.
func mapping(n *yaml.Node, name, what string) ([]pair, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: %s: want a mapping of configuration keys, e.g. {lr: 0.01}: %w", name, n.Line, what, ErrGrid)
	}
	var ps []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			return nil, fmt.Errorf("%s:%d: %s: key %s appears twice: %w", name, k.Line, what, k.Value, ErrGrid)
		}
		seen[k.Value] = true
		ps = append(ps, pair{key: k, val: n.Content[i+1]})
	}
	return ps, nil
}

// apply sets one key on c with train.ParseConfig, so that grid files and
// configuration files share one parser and its messages. The key is placed
// on its own line number so that errors point into the grid file.
func apply(c train.Config, p pair, name string) (train.Config, error) {
	v := *p.val
	if v.Kind == yaml.SequenceNode {
		v.Style = yaml.FlowStyle
	}
	var b bytes.Buffer
	b.WriteString(strings.Repeat("\n", max(0, p.key.Line-1)))
	b.WriteString(p.key.Value + ": " + text(&v) + "\n")
	return train.ParseConfig(b.Bytes(), name, c)
}

// text returns a value node as one line of YAML.
func text(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || strings.ContainsAny(n.Value, ":#{}[],\n") {
			return strconv.Quote(n.Value)
		}
		return n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = text(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, _ := yaml.Marshal(n)
	return strings.TrimSpace(string(b))
}

// Trials expands the grid and validates every trial's configuration.
func (g *Grid) Trials() ([]Trial, error) {
	type point []pair
	points := []point{nil}
	if g.list != nil {
		points = points[:0]
		for _, l := range g.list {
			points = append(points, point(l))
		}
	}
	for _, a := range g.axes {
		var next []point
		for _, p := range points {
			for _, v := range a.vals {
				next = append(next, append(append(point(nil), p...), pair{key: a.key, val: v}))
			}
		}
		points = next
	}
	n := len(points) * g.repeats
	width := max(3, len(strconv.Itoa(n-1)))
	trials := make([]Trial, 0, n)
	for _, p := range points {
		for r := 0; r < g.repeats; r++ {
			c := g.Base
			c.Hidden = append([]int(nil), c.Hidden...)
			t := Trial{Index: len(trials)}
			var err error
			for _, kv := range p {
				if c, err = apply(c, kv, g.Name); err != nil {
					return nil, err
				}
				t.Settings = append(t.Settings, Setting{Key: kv.key.Value, Value: text(kv.val)})
			}
			if g.repeats > 1 {
				c.Seed = g.Base.Seed + uint64(r)
				t.Settings = append(t.Settings, Setting{Key: "seed", Value: strconv.FormatUint(c.Seed, 10)})
			}
			t.Name = name(t.Index, width, t.Settings)
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("%s: trial %s: %w", g.Name, t.Name, err)
			}
			t.Config = c
			trials = append(trials, t)
		}
	}
	return trials, nil
}

// maxName bounds the length of a trial name.
const maxName = 100

// name returns "NNN-key_value-…", with characters outside [A-Za-z0-9._+-]
// replaced by '_' and lists written as 64x64.
func name(i, width int, s []Setting) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%0*d", width, i)
	for _, kv := range s {
		v := strings.Trim(kv.Value, `[]"`)
		v = strings.ReplaceAll(v, ", ", "x")
		b.WriteString("-" + kv.Key + "_" + v)
	}
	out := []byte(b.String())
	for j, c := range out {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._+-", c) >= 0
		if !ok {
			out[j] = '_'
		}
	}
	if len(out) > maxName {
		out = out[:maxName]
	}
	return string(out)
}
