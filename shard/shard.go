// Package shard splits a batch of rows into deterministic contiguous blocks
// for independent processes (Kubernetes Indexed Jobs, Slurm job arrays, AWS
// Batch array jobs) and merges the part files they write back into exactly
// the bytes one unsharded process writes.
//
// # Partition
//
// Shard i of n (0-based) of R rows holds the rows [lo(i), lo(i+1)) with
//
//	lo(i) = i·q + min(i, r),  q = ⌊R/n⌋, r = R mod n,
//
// so the blocks are contiguous, in order, cover every row once, and differ
// in size by at most one row (the first r shards hold q+1 rows). The block
// depends only on (i, n, R), never on the machine, the time or the number
// of threads, which is what lets a retried shard reproduce its bytes.
//
// # Part files
//
// A part file is line oriented: one header line (a JSON object, see
// Header) that records the command, its settings, the input's SHA-256 and
// row count and the shard's block; then one line per record, exactly the
// bytes the unsharded command writes for those rows; then one trailer line
// (see Trailer) with the number of records and the SHA-256 of the records'
// bytes. Merge checks that a set of parts comes from one command on one
// input with one set of settings, that no shard is missing or duplicated,
// and that every body is intact, and writes the bodies in shard order.
package shard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxCount is the largest shard count accepted (Kubernetes allows at most
// 100000 completions for an Indexed Job; Slurm's MaxArraySize is smaller).
const MaxCount = 1_000_000

// ErrSpec reports a malformed shard specification.
var ErrSpec = errors.New("invalid shard")

// Spec is shard Index of Count (0 <= Index < Count).
type Spec struct {
	Index, Count int
}

// Whole is the single shard that holds every row.
var Whole = Spec{Index: 0, Count: 1}

// String returns "Index/Count", the form Parse reads.
func (s Spec) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Validate reports whether 0 <= Index < Count <= MaxCount.
func (s Spec) Validate() error {
	if s.Count < 1 || s.Count > MaxCount {
		return fmt.Errorf("shard %s: the count must be between 1 and %d: %w", s, MaxCount, ErrSpec)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %s: the index must be between 0 and %d (shards are numbered from 0): %w", s, s.Count-1, ErrSpec)
	}
	return nil
}

// Range returns the block [lo, hi) of rows 0 … rows-1 that the shard holds
// (see the package documentation). It panics if the Spec is invalid or rows
// is negative.
func (s Spec) Range(rows int) (lo, hi int) {
	if s.Validate() != nil || rows < 0 {
		panic(fmt.Sprintf("shard: Range(%d) of invalid shard %d/%d", rows, s.Index, s.Count))
	}
	return bound(s.Index, s.Count, rows), bound(s.Index+1, s.Count, rows)
}

// bound returns lo(i) for n shards of rows rows without overflow.
func bound(i, n, rows int) int {
	q, r := rows/n, rows%n
	return i*q + min(i, r)
}

// Parse reads a shard specification "INDEX/COUNT" (0-based, decimal, as in
// "-shard $(JOB_COMPLETION_INDEX)/64" or "-shard ${SLURM_ARRAY_TASK_ID}/64";
// spaces around the numbers are ignored). Errors wrap ErrSpec and say what
// is wrong, including the usual scheduler mistakes: an index variable that
// was not set or not expanded, and 1-based array indices.
func Parse(text string) (Spec, error) {
	fail := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("shard %q: "+format+": %w", append(append([]any{text}, args...), ErrSpec)...)
	}
	is, cs, ok := strings.Cut(text, "/")
	if !ok {
		return fail("want INDEX/COUNT with a 0-based index, e.g. 0/4 … 3/4 for four shards")
	}
	is, cs = strings.TrimSpace(is), strings.TrimSpace(cs)
	for _, part := range []struct{ what, s string }{{"index", is}, {"count", cs}} {
		switch {
		case part.s == "":
			return fail("the %s is empty: if a variable gives it (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX), it is not set in this environment", part.what)
		case strings.Contains(part.s, "$"):
			return fail("the %s %q is an unexpanded variable: Kubernetes expands $(JOB_COMPLETION_INDEX) only in an Indexed Job (completionMode: Indexed), a shell expands ${SLURM_ARRAY_TASK_ID} only inside double quotes or none", part.what, part.s)
		}
	}
	idx, err := parseCount(is)
	if err != nil {
		return fail("the index %q is not a non-negative decimal integer", is)
	}
	cnt, err := parseCount(cs)
	if err != nil {
		return fail("the count %q is not a positive decimal integer", cs)
	}
	if cnt < 1 || cnt > MaxCount {
		return fail("the count %d must be between 1 and %d", cnt, MaxCount)
	}
	if idx >= cnt {
		hint := ""
		if idx == cnt {
			hint = " (is the array numbered from 1? use indices 0 to COUNT-1, e.g. sbatch --array=0-" + strconv.Itoa(cnt-1) + ")"
		}
		return fail("the index %d is not below the count %d: shards are numbered from 0 to %d%s", idx, cnt, cnt-1, hint)
	}
	return Spec{Index: idx, Count: cnt}, nil
}

// parseCount parses a decimal integer of at most 9 digits (no sign).
func parseCount(s string) (int, error) {
	if len(s) == 0 || len(s) > 9 {
		return 0, strconv.ErrSyntax
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = 10*n + int(c-'0')
	}
	return n, nil
}
