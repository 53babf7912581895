package tbevent_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/matapprox/matapprox/tbevent"
)

func ExampleWriter() {
	dir, err := os.MkdirTemp("", "tb")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := tbevent.NewWriter(dir) // then: tensorboard --logdir dir
	if err != nil {
		log.Fatal(err)
	}
	for epoch, loss := range []float64{0.9, 0.5, 0.3} {
		if err := w.Scalar("loss/train", int64(epoch), loss, time.Now()); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(filepath.Base(w.Path()), "events.out.tfevents."))
	// Output: true
}

func ExampleAppendRecord() {
	event := tbevent.AppendScalarEvent(nil, 1.5, 3, "loss", 0.25)
	fmt.Printf("% x\n", tbevent.AppendRecord(nil, event)[:12])
	// Output: 1a 00 00 00 00 00 00 00 12 9b d8 2d
}
