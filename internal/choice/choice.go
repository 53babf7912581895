// Package choice holds named alternatives: a Registry maps each name of a
// configuration choice (a loss, an optimizer, a command) to its value, looks
// names up case-insensitively and suggests the closest name for a typo.
//
// Suggestions use the Damerau–Levenshtein (optimal string alignment) edit
// distance: the fewest insertions, deletions, substitutions and swaps of two
// adjacent characters that turn one string into the other (Damerau 1964,
// "A technique for computer detection and correction of spelling errors").
package choice

import (
	"strings"
	"unicode/utf8"
)

// Option is one name of a Registry with its value and a one-line
// description.
type Option[T any] struct {
	Name  string
	Value T
	Doc   string
}

// Registry is an ordered set of options. Names are unique ignoring case.
type Registry[T any] struct {
	opts []Option[T]
}

// New returns a registry of opts, in the given order. It panics if two
// names are equal ignoring case: a registry is a program constant.
func New[T any](opts ...Option[T]) *Registry[T] {
	seen := map[string]bool{}
	for _, o := range opts {
		k := strings.ToLower(o.Name)
		if seen[k] || k == "" {
			panic("choice: duplicate or empty name " + o.Name)
		}
		seen[k] = true
	}
	return &Registry[T]{opts: opts}
}

// Lookup returns the option named name, ignoring case and surrounding space.
func (r *Registry[T]) Lookup(name string) (Option[T], bool) {
	name = strings.TrimSpace(name)
	for _, o := range r.opts {
		if strings.EqualFold(o.Name, name) {
			return o, true
		}
	}
	return Option[T]{}, false
}

// Names returns the names in registry order.
func (r *Registry[T]) Names() []string {
	names := make([]string, len(r.opts))
	for i, o := range r.opts {
		names[i] = o.Name
	}
	return names
}

// Options returns the options in registry order.
func (r *Registry[T]) Options() []Option[T] { return append([]Option[T](nil), r.opts...) }

// Closest returns the candidate nearest to s (ignoring case) when it is
// close enough to be a plausible typo: within an edit distance of one for
// names of up to four characters, two up to eight and three beyond, or when
// s is a prefix of exactly one candidate. It returns "" otherwise.
func Closest(s string, candidates []string) string {
	s = strings.ToLower(strings.TrimLeft(strings.TrimSpace(s), "-"))
	if s == "" {
		return ""
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := Distance(s, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	limit := 3
	switch n := utf8.RuneCountInString(s); {
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	if bestD <= limit {
		return best
	}
	var prefix []string
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), s) {
			prefix = append(prefix, c)
		}
	}
	if len(prefix) == 1 {
		return prefix[0]
	}
	return ""
}

// Distance returns the optimal-string-alignment edit distance between a
// and b, counted in runes.
func Distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	// d[i][j] is the distance between x[:i] and y[:j]; three rows suffice.
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}

// List joins names as "a, b or c".
func List(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
