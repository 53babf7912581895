package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/safetensors"
	"github.com/matapprox/matapprox/structure"
)

// File names inside a model directory written by Save.
const (
	WeightsFile = "model.safetensors"
	ConfigFile  = "config.json"
)

// configFormat identifies config.json files written by Save.
const configFormat = "matapprox-mlp"

// Meta describes what a model approximates; Save records it in config.json
// and Load restores it. All fields are optional.
type Meta struct {
	// In and Out are the bands of the input and output generators; when
	// set, In.Len() must equal Inputs and Out.Len() Outputs.
	In  *structure.Band `json:"in_band,omitempty"`
	Out *structure.Band `json:"out_band,omitempty"`
	// Extra holds free-form notes (training options, provenance).
	Extra map[string]string `json:"extra,omitempty"`
}

// check reports whether the bands fit the configuration.
func (mt Meta) check(c Config) error {
	for _, b := range []struct {
		name  string
		band  *structure.Band
		width int
	}{{"input", mt.In, c.Inputs}, {"output", mt.Out, c.Outputs}} {
		if b.band == nil {
			continue
		}
		if err := b.band.Check(); err != nil {
			return fmt.Errorf("%s band: %w", b.name, err)
		}
		if b.band.Len() != b.width {
			return fmt.Errorf("%s band %v has generators of length %d, but the network has %d %ss: %w", b.name, *b.band, b.band.Len(), b.width, b.name, ErrConfig)
		}
	}
	if mt.In != nil && mt.Out != nil {
		if err := structure.CheckNested(*mt.In, *mt.Out); err != nil {
			return fmt.Errorf("bands: %w", err)
		}
	}
	return nil
}

// configJSON is the content of config.json.
type configJSON struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Config  Config    `json:"config"`
	Mean    []float64 `json:"mean,omitempty"`
	Std     []float64 `json:"std,omitempty"`
	Meta
	// Kind and Symmetry (version 2) repeat the model file's description.
	Kind     Kind   `json:"kind,omitempty"`
	Symmetry string `json:"symmetry,omitempty"`
}

// tensorName returns PyTorch's name for layer l's weight or bias in the
// notebook's model, where nn.Sequential holds the Linear layers at even
// indices and the activations between them: net.{2l}.weight, net.{2l}.bias.
func tensorName(l int, what string) string { return "net." + strconv.Itoa(2*l) + "." + what }

// Tensors returns the parameters as F64 tensors named as PyTorch names the
// notebook's state_dict (net.0.weight [out, in], net.0.bias [out],
// net.2.weight, …). The Data slices are copies.
func (m *MLP) Tensors() []safetensors.Tensor {
	ts := make([]safetensors.Tensor, 0, 2*m.NumLayers())
	for l := 0; l < m.NumLayers(); l++ {
		ly := m.Layer(l)
		ts = append(ts,
			safetensors.Tensor{Name: tensorName(l, "weight"), DType: "F64", Shape: []int{ly.Out, ly.In}, Data: slices.Clone(ly.W)},
			safetensors.Tensor{Name: tensorName(l, "bias"), DType: "F64", Shape: []int{ly.Out}, Data: slices.Clone(ly.B)})
	}
	return ts
}

// FromTensors builds a network with activation act from tensors named
// {prefix}{2l}.weight (shape [out, in]) and {prefix}{2l}.bias ([out]) for
// l = 0..L−1, where the prefix is "", "net." or "model.net." and the same
// for all tensors; the architecture is inferred from the shapes. Any dtype
// that package safetensors decodes is accepted. Errors wrap ErrTensor and
// name the offending tensor.
func FromTensors(ts []safetensors.Tensor, act Activation) (*MLP, error) {
	if !act.valid() {
		return nil, fmt.Errorf("activation %d: %w", int(act), ErrConfig)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no tensors: %w", ErrTensor)
	}
	type pair struct{ w, b *safetensors.Tensor }
	layers := map[int]*pair{}
	prefix := ""
	for i := range ts {
		t := &ts[i]
		p, rest := splitPrefix(t.Name)
		if i == 0 {
			prefix = p
		} else if p != prefix {
			return nil, fmt.Errorf("tensor %q: prefix %q differs from %q of tensor %q: %w", t.Name, p, prefix, ts[0].Name, ErrTensor)
		}
		idx, what, ok := strings.Cut(rest, ".")
		l, err := strconv.Atoi(idx)
		if !ok || err != nil || l < 0 || l%2 != 0 || strconv.Itoa(l) != idx || (what != "weight" && what != "bias") {
			return nil, fmt.Errorf("tensor %q: want %s{2i}.weight or %s{2i}.bias (Linear layers at even indices): %w", t.Name, prefix, prefix, ErrTensor)
		}
		if len(t.Data) != product(t.Shape) {
			return nil, fmt.Errorf("tensor %q: %d values for shape %v: %w", t.Name, len(t.Data), t.Shape, ErrTensor)
		}
		pr := layers[l/2]
		if pr == nil {
			pr = &pair{}
			layers[l/2] = pr
		}
		dst := &pr.w
		if what == "bias" {
			dst = &pr.b
		}
		if *dst != nil {
			return nil, fmt.Errorf("tensor %q given twice: %w", t.Name, ErrTensor)
		}
		*dst = t
	}
	L := len(layers)
	cfg := Config{Activation: act}
	for l := 0; l < L; l++ {
		pr := layers[l]
		wName, bName := prefix+strconv.Itoa(2*l)+".weight", prefix+strconv.Itoa(2*l)+".bias"
		if pr == nil {
			return nil, fmt.Errorf("layer %d (%s, %s) missing while %d layers are present: %w", l, wName, bName, L, ErrTensor)
		}
		if pr.w == nil {
			return nil, fmt.Errorf("tensor %q missing: %w", wName, ErrTensor)
		}
		if pr.b == nil {
			return nil, fmt.Errorf("tensor %q missing: %w", bName, ErrTensor)
		}
		if len(pr.w.Shape) != 2 || pr.w.Shape[0] < 1 || pr.w.Shape[1] < 1 {
			return nil, fmt.Errorf("tensor %q has shape %v, want [out, in] with positive sizes: %w", wName, pr.w.Shape, ErrTensor)
		}
		out, in := pr.w.Shape[0], pr.w.Shape[1]
		if l == 0 {
			cfg.Inputs = in
		} else if prev := layers[l-1].w.Shape[0]; in != prev {
			return nil, fmt.Errorf("tensor %q has shape %v, want [%s, %d] to follow %s with %d outputs: %w", wName, pr.w.Shape, "out", prev, prefix+strconv.Itoa(2*l-2)+".weight", prev, ErrTensor)
		}
		if len(pr.b.Shape) != 1 || pr.b.Shape[0] != out {
			return nil, fmt.Errorf("tensor %q has shape %v, want [%d] to match %s: %w", bName, pr.b.Shape, out, wName, ErrTensor)
		}
		if l < L-1 {
			cfg.Hidden = append(cfg.Hidden, out)
		} else {
			cfg.Outputs = out
		}
	}
	m, err := newZero(cfg)
	if err != nil {
		return nil, fmt.Errorf("tensors describe %v: %w", cfg, err)
	}
	for l := 0; l < L; l++ {
		ly := m.Layer(l)
		copy(ly.W, layers[l].w.Data)
		copy(ly.B, layers[l].b.Data)
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTensor, err)
	}
	return m, nil
}

func splitPrefix(name string) (prefix, rest string) {
	for _, p := range []string{"model.net.", "net."} {
		if strings.HasPrefix(name, p) {
			return p, name[len(p):]
		}
	}
	return "", name
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// MetadataKey is the safetensors metadata key under which Save records the
// whole model description (see ModelInfo): architecture, activation,
// symmetry, bands and standardisation, so that model.safetensors alone
// determines the outputs.
const MetadataKey = "matapprox"

// ModelVersion is the version of the ModelInfo format Save writes.
const ModelVersion = 2

// ModelInfo is the JSON object stored under MetadataKey in the metadata of
// every model.safetensors that Save writes. The tensors are the network's
// parameters named as in MLP.Tensors.
type ModelInfo struct {
	Version    int             `json:"version"`
	Kind       Kind            `json:"kind"`
	Activation string          `json:"activation"`
	Symmetry   string          `json:"symmetry"`
	Hidden     []int           `json:"hidden"`
	In         *structure.Band `json:"in_band,omitempty"`
	Out        *structure.Band `json:"out_band,omitempty"`
	// Mean and Std standardise the network input (KindMLP only).
	Mean  []float64         `json:"mean,omitempty"`
	Std   []float64         `json:"std,omitempty"`
	Extra map[string]string `json:"extra,omitempty"`
}

// Info returns the description Save records.
func (a *Approximator) Info() ModelInfo {
	return ModelInfo{
		Version: ModelVersion, Kind: a.Kind, Activation: a.Net.Config.Activation.String(),
		Symmetry: a.Symmetry.String(), Hidden: append([]int{}, a.Net.Config.Hidden...),
		In: a.Meta.In, Out: a.Meta.Out, Mean: a.Net.Mean, Std: a.Net.Std, Extra: a.Meta.Extra,
	}
}

// Metadata returns the safetensors metadata Save writes: "format": "pt"
// (PyTorch's), "activation", and the ModelInfo as JSON under MetadataKey.
func (a *Approximator) Metadata() (map[string]string, error) {
	b, err := json.Marshal(a.Info())
	if err != nil {
		return nil, err
	}
	return map[string]string{"format": "pt", "activation": a.Net.Config.Activation.String(), MetadataKey: string(b)}, nil
}

// Save writes the model into directory dir (created if needed): the
// whole model in model.safetensors (F64 tensors named as in MLP.Tensors,
// ModelInfo under MetadataKey in the metadata), and config.json, a readable
// copy of the same description, each atomically. The file alone determines
// the outputs; config.json is informational.
func (a *Approximator) Save(dir string) error {
	if err := a.Check(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	meta, err := a.Metadata()
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, WeightsFile), a.Net.Tensors(), meta); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	cj := configJSON{Format: configFormat, Version: ModelVersion, Config: a.Net.Config, Mean: a.Net.Mean, Std: a.Net.Std, Meta: a.Meta,
		Kind: a.Kind, Symmetry: a.Symmetry.String()}
	b, err := json.MarshalIndent(cj, "", "  ")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ConfigFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// Save writes the network as a KindMLP approximator (see Approximator.Save).
func (m *MLP) Save(dir string) error {
	if err := m.Meta.check(m.Config); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return FromMLP(m).Save(dir)
}

// Load reads a plain network (KindMLP) as LoadApproximator does; a model of
// another architecture is refused with an error that says so.
func Load(path string) (*MLP, error) {
	a, err := LoadApproximator(path)
	if err != nil {
		return nil, err
	}
	if a.Kind != KindMLP {
		return nil, fmt.Errorf("load model: %s holds a %s approximator, not a plain network; use nn.LoadApproximator: %w", path, a.Kind, ErrConfig)
	}
	a.Net.Meta = a.Meta
	return a.Net, nil
}

// LoadApproximator reads a model. path is a directory holding
// model.safetensors (and, optionally, config.json) or a .safetensors file.
//
//   - A file whose metadata has MetadataKey (everything Save writes) is read
//     from that description alone; a description lacking what its
//     architecture needs (bands for sphere, a known kind, activation or
//     symmetry, tensors matching the shapes) is refused, never completed by
//     guesses.
//   - A file without it and without an "activation" key is a PyTorch
//     state_dict of the notebook's NeuralNetwork (net.0.weight, …): a tanh
//     network without standardisation, the notebook's model exactly.
//   - A file from matapprox before ModelVersion 2 (an "activation" key but
//     no MetadataKey) kept its standardisation in config.json: it is read
//     with the config.json beside it and refused without one.
func LoadApproximator(path string) (*Approximator, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	weights, cfgPath := path, ""
	if st.IsDir() {
		weights = filepath.Join(path, WeightsFile)
		cfgPath = filepath.Join(path, ConfigFile)
	} else if filepath.Base(path) == ConfigFile {
		weights = filepath.Join(filepath.Dir(path), WeightsFile)
		cfgPath = path
	} else {
		cfgPath = filepath.Join(filepath.Dir(path), ConfigFile)
		if filepath.Base(path) != WeightsFile {
			cfgPath = ""
		}
	}
	ts, meta, err := safetensors.ReadFile(weights)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if info, ok := meta[MetadataKey]; ok {
		a, err := FromFile(ts, info)
		if err != nil {
			return nil, fmt.Errorf("load model: %s: %w", weights, err)
		}
		return a, nil
	}
	actName, written := meta["activation"]
	var cj *configJSON
	if cfgPath != "" {
		b, err := os.ReadFile(cfgPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("load model: %w", err)
		default:
			cj = new(configJSON)
			if err := json.Unmarshal(b, cj); err != nil {
				return nil, fmt.Errorf("load model: %s: %w", cfgPath, err)
			}
			if cj.Format != configFormat {
				return nil, fmt.Errorf("load model: %s: format %q, want %q: %w", cfgPath, cj.Format, configFormat, ErrConfig)
			}
			if err := cj.Config.Validate(); err != nil {
				return nil, fmt.Errorf("load model: %s: %w", cfgPath, err)
			}
		}
	}
	if written && cj == nil {
		return nil, fmt.Errorf("load model: %s was written by an older matapprox, which kept the input standardisation in config.json, and no config.json is beside it: load its run directory, or save it again with this version so the file holds the whole model: %w", weights, ErrConfig)
	}
	act := Tanh
	if cj != nil {
		act = cj.Config.Activation
	} else if written {
		if act, err = ParseActivation(actName); err != nil {
			return nil, fmt.Errorf("load model: %s: metadata: %w", weights, err)
		}
	}
	m, err := FromTensors(ts, act)
	if err != nil {
		return nil, fmt.Errorf("load model: %s: %w", weights, err)
	}
	if cj != nil {
		if !slices.Equal(m.sizes, cj.Config.Sizes()) {
			return nil, fmt.Errorf("load model: %s describes %v but %s holds %v: %w", cfgPath, cj.Config, weights, m.Config, ErrTensor)
		}
		m.Mean, m.Std, m.Meta = cj.Mean, cj.Std, cj.Meta
		if err := m.Check(); err != nil {
			return nil, fmt.Errorf("load model: %s: %w", cfgPath, err)
		}
		if err := m.Meta.check(m.Config); err != nil {
			return nil, fmt.Errorf("load model: %s: %w", cfgPath, err)
		}
	}
	return FromMLP(m), nil
}

// FromFile builds an approximator from the tensors and the MetadataKey
// value of a model file. Every field the architecture needs must be present:
// errors wrap ErrConfig or ErrTensor and name what is missing.
func FromFile(ts []safetensors.Tensor, info string) (*Approximator, error) {
	var mi ModelInfo
	dec := json.NewDecoder(strings.NewReader(info))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mi); err != nil {
		return nil, fmt.Errorf("metadata %q: %v: %w", MetadataKey, err, ErrConfig)
	}
	if mi.Version < 2 || mi.Version > ModelVersion {
		return nil, fmt.Errorf("metadata %q: version %d, this matapprox reads version 2 to %d: %w", MetadataKey, mi.Version, ModelVersion, ErrConfig)
	}
	kind, err := ParseKind(string(mi.Kind))
	if err != nil {
		return nil, fmt.Errorf("metadata %q: %w", MetadataKey, err)
	}
	if mi.Activation == "" {
		return nil, fmt.Errorf("metadata %q: no activation: %w", MetadataKey, ErrConfig)
	}
	act, err := ParseActivation(mi.Activation)
	if err != nil {
		return nil, fmt.Errorf("metadata %q: %w", MetadataKey, err)
	}
	if mi.Symmetry == "" {
		return nil, fmt.Errorf("metadata %q: no symmetry (write \"none\" for none): %w", MetadataKey, ErrConfig)
	}
	sym, err := ParseSymmetry(mi.Symmetry)
	if err != nil {
		return nil, fmt.Errorf("metadata %q: %w", MetadataKey, err)
	}
	if kind.OnSphere() && (mi.In == nil || mi.Out == nil) {
		return nil, fmt.Errorf("metadata %q: architecture %s needs in_band and out_band, which the file lacks: %w", MetadataKey, kind, ErrConfig)
	}
	net, err := FromTensors(ts, act)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(net.Config.Hidden, mi.Hidden) && !(len(mi.Hidden) == 0 && len(net.Config.Hidden) == 0) {
		return nil, fmt.Errorf("metadata %q describes hidden layers %v but the tensors hold %v: %w", MetadataKey, mi.Hidden, net.Config.Hidden, ErrTensor)
	}
	net.Mean, net.Std = mi.Mean, mi.Std
	a := &Approximator{Kind: kind, Symmetry: sym, Net: net, Meta: Meta{In: mi.In, Out: mi.Out, Extra: mi.Extra}}
	if err := a.Check(); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", MetadataKey, err)
	}
	return a, nil
}
