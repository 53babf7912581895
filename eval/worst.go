package eval

import "sort"

// Worst keeps the K rows with the largest gap of one method (Network if
// Method is empty), for showing where a model fails. Exact rows, which have
// no gap, are skipped. Memory is K rows.
type Worst struct {
	K      int
	Method string
	rows   []*Row
}

// Add considers r, cloning it if it is kept.
func (w *Worst) Add(r *Row) {
	name := w.Method
	if name == "" {
		name = Network
	}
	a := r.Method(name)
	if w.K < 1 || r.Exact || a == nil || a.Gap != a.Gap {
		return
	}
	if len(w.rows) == w.K {
		if a.Gap <= w.gap(w.rows[len(w.rows)-1]) {
			return
		}
		w.rows = w.rows[:len(w.rows)-1]
	}
	c := r.Clone()
	i := sort.Search(len(w.rows), func(i int) bool { return w.gap(w.rows[i]) < a.Gap })
	w.rows = append(w.rows, nil)
	copy(w.rows[i+1:], w.rows[i:])
	w.rows[i] = c
}

func (w *Worst) gap(r *Row) float64 {
	name := w.Method
	if name == "" {
		name = Network
	}
	return r.Method(name).Gap
}

// Rows returns the kept rows, largest gap first.
func (w *Worst) Rows() []*Row { return w.rows }
