package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"

	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/optim"
)

// ErrCheckpoint reports a checkpoint that cannot be used: unreadable,
// truncated, corrupt, or written for another configuration.
var ErrCheckpoint = errors.New("unusable checkpoint")

const checkpointMagic = "matapprox-checkpoint-v1\n"

// checkpoint is everything that determines the rest of a run.
type checkpoint struct {
	ConfigHash   string
	DataHash     string
	Epoch, Pos   int
	Perm         []int32
	EpochLoss    float64
	EpochSamples int
	LastBatch    float64
	InitLoss     float64
	Elapsed      time.Duration
	Params       []float64
	Mean, Std    []float64
	Optimizer    []byte
	RNG          []byte
	History      []EpochStats
	BestVal      float64
	BestEpoch    int
	Best         []float64
	Stale        int
}

// ConfigHash returns a hash identifying a configuration.
func ConfigHash(c *Config) string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func (t *Trainer) dataHash() string {
	h := sha256.New()
	var buf [8]byte
	for _, s := range []*[]float64{&t.Train.X, &t.Val.X, &t.Probes} {
		for _, v := range *s {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// WriteCheckpoint writes the trainer's complete state to path atomically.
// The file is a magic line, a gob-encoded state and a CRC-32 of it.
func (t *Trainer) WriteCheckpoint(path string) error {
	opt, err := t.opt.State().MarshalBinary()
	if err != nil {
		return fmt.Errorf("checkpoint: optimizer state: %w", err)
	}
	rng, err := t.src.MarshalBinary()
	if err != nil {
		return fmt.Errorf("checkpoint: random state: %w", err)
	}
	ck := checkpoint{
		ConfigHash: ConfigHash(&t.Cfg), DataHash: t.dataHash(),
		Epoch: t.epoch, Pos: t.pos, Perm: t.perm,
		EpochLoss: t.epochLoss, EpochSamples: t.epochSamples, LastBatch: t.lastBatch, InitLoss: t.initLoss, Elapsed: t.elapsed,
		Params: t.Model.Params(), Mean: t.Model.Net.Mean, Std: t.Model.Net.Std,
		Optimizer: opt, RNG: rng,
		History: t.History, BestVal: t.BestVal, BestEpoch: t.BestEpoch, Best: t.best, Stale: t.stale,
	}
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(&ck); err != nil {
		return fmt.Errorf("checkpoint: encode: %w", err)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if _, err := io.WriteString(w, checkpointMagic); err != nil {
			return err
		}
		if _, err := w.Write(body.Bytes()); err != nil {
			return err
		}
		return binary.Write(w, binary.LittleEndian, crc32.ChecksumIEEE(body.Bytes()))
	})
}

// Resume restores the state saved by WriteCheckpoint into t, which must
// have been built by New from the same configuration.
func (t *Trainer) Resume(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	bad := func(why string) error {
		return fmt.Errorf("resume from %s: %s: %w", path, why, ErrCheckpoint)
	}
	if len(raw) < len(checkpointMagic)+4 || string(raw[:len(checkpointMagic)]) != checkpointMagic {
		return bad("not a matapprox checkpoint (bad magic)")
	}
	body := raw[len(checkpointMagic) : len(raw)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(raw[len(raw)-4:]) {
		return bad("checksum mismatch: the file is truncated or corrupt")
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&ck); err != nil {
		return bad("decode: " + err.Error())
	}
	if ck.ConfigHash != ConfigHash(&t.Cfg) {
		return bad("it was written for a different configuration")
	}
	if ck.DataHash != t.dataHash() {
		return bad("the training data or probes differ from the run's (was a data file changed?)")
	}
	if len(ck.Params) != len(t.Model.Params()) || len(ck.Perm) != len(t.perm) || ck.Pos < 0 || ck.Pos > len(t.perm) || ck.Epoch < 0 || ck.Epoch > t.Cfg.Epochs {
		return bad("its shapes do not match the configuration")
	}
	var st optim.State
	if err := st.UnmarshalBinary(ck.Optimizer); err != nil {
		return bad("optimizer state: " + err.Error())
	}
	if err := t.opt.SetState(st); err != nil {
		return bad("optimizer state: " + err.Error())
	}
	if err := t.src.UnmarshalBinary(ck.RNG); err != nil {
		return bad("random state: " + err.Error())
	}
	copy(t.Model.Params(), ck.Params)
	t.Model.Net.Mean, t.Model.Net.Std = ck.Mean, ck.Std
	t.epoch, t.pos, t.perm = ck.Epoch, ck.Pos, ck.Perm
	t.epochLoss, t.epochSamples, t.lastBatch, t.initLoss, t.elapsed = ck.EpochLoss, ck.EpochSamples, ck.LastBatch, ck.InitLoss, ck.Elapsed
	t.History, t.BestVal, t.BestEpoch, t.best, t.stale = ck.History, ck.BestVal, ck.BestEpoch, ck.Best, ck.Stale
	if t.BestVal == 0 && ck.BestEpoch == 0 {
		t.BestVal = math.Inf(1)
	}
	return nil
}
