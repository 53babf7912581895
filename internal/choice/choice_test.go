package choice

import (
	"fmt"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"adam", "adam", 0}, {"adam", "adamw", 1}, {"adma", "adam", 1}, {"sdg", "sgd", 1},
		{"kitten", "sitting", 3}, {"", "abc", 3}, {"spectal", "spectral", 1}, {"ε", "e", 1},
	} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
		if got := Distance(c.b, c.a); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.d)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"train", "eval", "approx", "optimal", "report", "reproduce", "version", "help"}
	for _, c := range []struct{ in, want string }{
		{"trian", "train"}, {"evl", "eval"}, {"REPORT", "report"}, {"-versoin", "version"}, {"opt", "optimal"},
		{"xyz", ""}, {"", ""}, {"re", ""}, // "re" is a prefix of two names
	} {
		if got := Closest(c.in, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	r := New(Option[int]{Name: "one", Value: 1}, Option[int]{Name: "two", Value: 2})
	if o, ok := r.Lookup(" TWO "); !ok || o.Value != 2 || o.Name != "two" {
		t.Errorf("Lookup(TWO) = %+v, %v", o, ok)
	}
	if _, ok := r.Lookup("three"); ok {
		t.Error("Lookup(three) found something")
	}
	if got := List(r.Names()); got != "one or two" {
		t.Errorf("List = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate name did not panic")
		}
	}()
	New(Option[int]{Name: "a"}, Option[int]{Name: "A"})
}

func ExampleClosest() {
	fmt.Println(Closest("adma", []string{"adagrad", "sgd", "adam", "adamw"}))
	// Output: adam
}
