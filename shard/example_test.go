package shard_test

import (
	"fmt"

	"github.com/matapprox/matapprox/shard"
)

// A Kubernetes Indexed Job of 4 completions passes -shard
// $(JOB_COMPLETION_INDEX)/4; each pod takes one contiguous block of rows.
func ExampleSpec_Range() {
	for i := 0; i < 4; i++ {
		s, err := shard.Parse(fmt.Sprintf("%d/4", i))
		if err != nil {
			fmt.Println(err)
			return
		}
		lo, hi := s.Range(10)
		fmt.Printf("shard %s: rows %d to %d\n", s, lo, hi-1)
	}
	_, err := shard.Parse("4/4")
	fmt.Println(err)
	// Output:
	// shard 0/4: rows 0 to 2
	// shard 1/4: rows 3 to 5
	// shard 2/4: rows 6 to 7
	// shard 3/4: rows 8 to 9
	// shard "4/4": the index 4 is not below the count 4: shards are numbered from 0 to 3 (is the array numbered from 1? use indices 0 to COUNT-1, e.g. sbatch --array=0-3): invalid shard
}
