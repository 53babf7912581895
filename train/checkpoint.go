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
	"path/filepath"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/optim"
)

// ErrCheckpoint reports a checkpoint that cannot be used: unreadable,
// truncated, corrupt, or written for another configuration.
var ErrCheckpoint = errors.New("unusable checkpoint")

const checkpointMagic = "matapprox-checkpoint-v2\n"

// checkpointHistory is how many of the latest epochs' statistics a
// checkpoint holds; earlier ones are read back from the run's append-only
// metrics log, so that the cost of a checkpoint does not grow with the
// number of epochs.
const checkpointHistory = 16

// checkpoint is everything that determines the rest of a run.
type checkpoint struct {
	ConfigHash   string
	DataHash     string
	Epoch, Pos   int
	Perm         []int // the epoch's order of the rows (data.LoaderState)
	EpochLoss    float64
	EpochSamples int
	LastBatch    float64
	InitLoss     float64
	Elapsed      time.Duration
	Params       []float64
	Mean, Std    []float64
	Optimizer    []byte
	RNG          []byte
	HistoryLen   int          // len(History) at the checkpoint
	HistoryTail  []EpochStats // its last min(HistoryLen, checkpointHistory) entries
	BestVal      float64
	BestEpoch    int
	Best         []float64
	Stale        int
	Ref          float64 // the early-stopping reference loss
}

// resumeHash identifies a configuration up to its epoch count, so that a
// run can be resumed with more epochs (see Resume).
func resumeHash(c *Config) string {
	d := *c
	d.Epochs = 0
	return "resume:" + ConfigHash(&d)
}

// ConfigHash returns a hash identifying a configuration.
func ConfigHash(c *Config) string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// dataHash identifies the training data, validation data and probes; it is
// computed once per Trainer (the data do not change during a run).
func (t *Trainer) dataHash() string {
	if t.dataSum == "" {
		t.dataSum = t.computeDataHash()
	}
	return t.dataSum
}

// computeDataHash hashes the values' little-endian bytes in blocks of 64
// KiB (one Write per value made a checkpoint of 10⁸ rows take minutes).
func (t *Trainer) computeDataHash() string {
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	for _, s := range []*[]float64{&t.Train.X, &t.Val.X, &t.Probes} {
		for _, v := range *s {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// WriteCheckpoint writes the trainer's complete state to path atomically.
// The file is a magic line, a gob-encoded state and a CRC-32 of it. Of the
// history it holds the length and the latest epochs only: Resume reads the
// rest from the metrics log (MetricsFile) in the checkpoint's directory,
// which RunDir appends to before every checkpoint.
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
		ConfigHash: resumeHash(&t.Cfg), DataHash: t.dataHash(),
		Epoch: t.epoch, Pos: t.pos, Perm: t.activeLoader().State().Perm,
		EpochLoss: t.epochLoss, EpochSamples: t.epochSamples, LastBatch: t.lastBatch, InitLoss: t.initLoss, Elapsed: t.elapsed,
		Params: t.Model.Params, Mean: t.Model.Mean, Std: t.Model.Std,
		Optimizer: opt, RNG: rng,
		HistoryLen: len(t.History), HistoryTail: t.History[max(0, len(t.History)-checkpointHistory):], BestVal: t.BestVal, BestEpoch: t.BestEpoch, Best: t.best, Stale: t.stale, Ref: t.ref,
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
// have been built by New from the same configuration, except that Epochs
// may be larger: the run is then extended to t.Cfg.Epochs. Every epoch's
// learning rate comes from the schedule of the new epoch count, so a
// constant or piecewise run extended to M epochs goes on exactly as a run
// configured with M epochs from the start, and a cosine run's remaining
// epochs follow the M-epoch curve (its learning rate rises from where the
// shorter curve ended to that curve's value at the current epoch). A
// history longer than the checkpoint holds is completed from the metrics
// log next to it, whose records must agree with the checkpoint's.
func (t *Trainer) Resume(path string) error {
	ck, err := readCheckpoint(path)
	if err != nil {
		return err
	}
	bad := func(why string) error {
		return fmt.Errorf("resume from %s: %s: %w", path, why, ErrCheckpoint)
	}
	if ck.ConfigHash != resumeHash(&t.Cfg) && ck.ConfigHash != ConfigHash(&t.Cfg) {
		return bad("it was written for a different configuration")
	}
	if ck.DataHash != t.dataHash() {
		return bad("the training data or probes differ from the run's (was a data file changed?)")
	}
	if ck.Epoch > t.Cfg.Epochs {
		return bad(fmt.Sprintf("the run has done %d epochs, more than the %d asked for", ck.Epoch, t.Cfg.Epochs))
	}
	if len(ck.Params) != len(t.Model.Params) || ck.Epoch < 0 || ck.Epoch > t.Cfg.Epochs {
		return bad("its shapes do not match the configuration")
	}
	if ck.HistoryLen < len(ck.HistoryTail) || ck.HistoryLen > ck.Epoch || len(ck.HistoryTail) > checkpointHistory {
		return bad("its history does not match its epoch count")
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
	t.epoch = ck.Epoch
	if err := t.activeLoader().Restore(data.LoaderState{Epoch: ck.Epoch, Pos: ck.Pos, Perm: ck.Perm}); err != nil {
		return bad(err.Error())
	}
	copy(t.Model.Params, ck.Params)
	t.Model.Mean, t.Model.Std = ck.Mean, ck.Std
	t.pos = ck.Pos
	t.epochLoss, t.epochSamples, t.lastBatch, t.initLoss, t.elapsed = ck.EpochLoss, ck.EpochSamples, ck.LastBatch, ck.InitLoss, ck.Elapsed
	hist, err := checkpointHistoryOf(path, ck)
	if err != nil {
		return bad(err.Error())
	}
	t.History, t.BestVal, t.BestEpoch, t.best, t.stale = hist, ck.BestVal, ck.BestEpoch, ck.Best, ck.Stale
	if t.BestVal == 0 && ck.BestEpoch == 0 {
		t.BestVal = math.Inf(1)
	}
	t.ref = ck.Ref
	if t.ref == 0 {
		t.ref = t.BestVal
	}
	return nil
}

// readCheckpoint reads and checks a checkpoint file (magic, CRC-32, gob).
func readCheckpoint(path string) (*checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	bad := func(why string) error {
		return fmt.Errorf("resume from %s: %s: %w", path, why, ErrCheckpoint)
	}
	if len(raw) < len(checkpointMagic)+4 || string(raw[:len(checkpointMagic)]) != checkpointMagic {
		return nil, bad("not a matapprox checkpoint of this version (bad magic)")
	}
	body := raw[len(checkpointMagic) : len(raw)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(raw[len(raw)-4:]) {
		return nil, bad("checksum mismatch: the file is truncated or corrupt")
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&ck); err != nil {
		return nil, bad("decode: " + err.Error())
	}
	return &ck, nil
}

// checkpointHistoryOf returns the full history of a checkpoint: its tail,
// preceded when needed by the first records of the metrics log next to it.
func checkpointHistoryOf(path string, ck *checkpoint) ([]EpochStats, error) {
	if ck.HistoryLen == len(ck.HistoryTail) {
		return append([]EpochStats(nil), ck.HistoryTail...), nil
	}
	mpath := filepath.Join(filepath.Dir(path), MetricsFile)
	logged, err := ReadMetrics(mpath)
	if err != nil {
		return nil, fmt.Errorf("the checkpoint's first %d epochs are in %s, which cannot be read: %w", ck.HistoryLen-len(ck.HistoryTail), mpath, err)
	}
	if len(logged) < ck.HistoryLen {
		return nil, fmt.Errorf("%s has %d epochs, the checkpoint %d", mpath, len(logged), ck.HistoryLen)
	}
	h := logged[:ck.HistoryLen:ck.HistoryLen]
	base := ck.HistoryLen - len(ck.HistoryTail)
	for i, s := range ck.HistoryTail {
		if !sameStats(h[base+i], s) {
			return nil, fmt.Errorf("%s disagrees with the checkpoint at epoch %d", mpath, s.Epoch)
		}
	}
	return h, nil
}

// sameStats compares what the metrics log stores of two epochs (NaN equal
// to NaN: the log writes non-finite values as null).
func sameStats(a, b EpochStats) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return a.Epoch == b.Epoch && eq(a.TrainLoss, b.TrainLoss) && eq(a.ValLoss, b.ValLoss) && eq(a.ValGap, b.ValGap) && eq(a.LR, b.LR)
}

// activeLoader returns the loader of the epoch in progress (or next).
func (t *Trainer) activeLoader() *data.Loader {
	if t.epoch < t.Cfg.WarmStart {
		return t.warmLoader
	}
	return t.loader
}
