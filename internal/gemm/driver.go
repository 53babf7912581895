package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Blocking parameters (see the package documentation). A k panel of at most
// kcMax rows of a packed micro-panel of B (kcMax·64 B = 16 KiB) stays in L1,
// an mcMax×kcMax block of A in L2, and a kcMax×ncMax panel of packed B in
// L2/L3.
const (
	kcMax = 256  // most rows of a k panel
	mcMax = 192  // most rows of C in a row block; a multiple of every mr
	ncMax = 1024 // most columns of packed B in one block; a multiple of every nr
)

// elem is a floating-point element type of the products.
type elem interface{ ~float32 | ~float64 }

// kernelFunc computes the first rows×nv elements of an mr×nr tile,
//
//	c[i*ldc+j] = alpha·Σ_p A(i,p)·B(p,j) + beta·c[i*ldc+j],  i < rows, j < nv, p < k,
//
// where A(i,p) = a[i*rsa+p*csa] and B(p,j) = b[p*rsb+j] (B is read for all
// j < nr). When beta is zero c is not read. k must be positive. Every element
// is computed by the same operations whatever rows and nv are.
type kernelFunc[T elem] func(rows, nv, k int, a []T, rsa, csa int, b []T, rsb int, c []T, ldc int, alpha, beta T)

// kernelFunc64 is a kernelFunc with beta = 0 that writes 0 + float64 of
// each element of the tile to a float64 C (Sgemm64).
type kernelFunc64[T elem] func(rows, nv, k int, a []T, rsa, csa int, b []T, rsb int, c []float64, ldc int, alpha T)

// kernel is a micro-kernel and the height mr and width nr of its tiles;
// fn64, when not nil, is its variant with a float64 C.
type kernel[T elem] struct {
	mr, nr int
	fn     kernelFunc[T]
	fn64   kernelFunc64[T]
	path   Path
}

// params describes one call of Dgemm or Sgemm.
type params[T elem] struct {
	aT, bT      bool
	m, n, k, kc int
	alpha, beta T
	a, b, c     []T
	c64         []float64 // the float64 C of Sgemm64 (c unused), one k panel
	lda, ldb    int
	ldc         int
	kern        kernel[T]
}

// kcFor returns the k panel size for inner dimension k: the panels are as
// equal as possible and at most kcMax. It depends on k alone, which fixes the
// order in which every element of C is summed.
func kcFor(k int) int {
	panels := (k + kcMax - 1) / kcMax
	return (k + panels - 1) / panels
}

// directB reports whether full micro-panels of B (not transposed) are read
// in place rather than packed. Packing costs k·n copies and pays off only
// when a micro-panel is reused over many row tiles, or when the row stride of
// B is a multiple of 2 KiB, which maps the rows of an in-place micro-panel to
// few L1 sets (measured: README.md). m is given in bytes (the column of C
// that reuses a micro-panel): in place up to 256 float64 or 512 float32
// rows. It depends on the whole problem, not on the block being computed,
// like everything that could change the result.
var directB = func(mBytes, ldbBytes int) bool {
	return mBytes <= 2048 && ldbBytes%2048 != 0
}

// packA reports whether a transposed A is packed into micro-panels. Read in
// place, a micro-panel of Aᵀ is kc rows of mr elements lda apart; packing
// makes it contiguous and pays off when it is reused over many column tiles
// (measured: README.md). In float32 (size 4) it is packed only when the
// stride lda is a multiple of 2 KiB (the rows share L1 sets); with another
// stride the rows read in place were faster (README.md).
var packA = func(m, n, ldaBytes, size int) bool {
	return n >= 128 && m > 128 && (size == 8 || ldaBytes%2048 == 0)
}

// task is a block of C computed by a pool goroutine: one of p64 and p32 is
// set.
type task struct {
	p64            *params[float64]
	p32            *params[float32]
	i0, i1, j0, j1 int
	wg             *sync.WaitGroup
}

// maxParts bounds the number of blocks C is cut into.
const maxParts = 16

// worker holds the buffers of one goroutine computing blocks of C.
type worker struct {
	p64      params[float64]
	p32      params[float32]
	b64, a64 []float64 // packed panel of op(B), block of op(A)
	b32, a32 []float32
	c32      []float32 // Sgemm64's float32 product where no kernel writes float64
	tasks    [maxParts]task
	wg       sync.WaitGroup
}

// buffers returns the packing buffers of w for element type T.
func buffers[T elem](w *worker) (bufA, bufB *[]T) {
	if a, ok := any(&w.a64).(*[]T); ok {
		return a, any(&w.b64).(*[]T)
	}
	return any(&w.a32).(*[]T), any(&w.b32).(*[]T)
}

// setParams points t at p.
func setParams[T elem](t *task, p *params[T]) {
	switch q := any(p).(type) {
	case *params[float64]:
		t.p64 = q
	case *params[float32]:
		t.p32 = q
	}
}

// The calling goroutine computes with the primary worker when no other call
// holds it (the usual case: one training loop), else with one from a pool
// that the garbage collector may empty.
var (
	primary     worker
	primaryBusy atomic.Bool
	workers     = sync.Pool{New: func() any { return new(worker) }}
)

func getWorker() *worker {
	if primaryBusy.CompareAndSwap(false, true) {
		return &primary
	}
	return workers.Get().(*worker)
}

func putWorker(w *worker) {
	if w == &primary {
		primaryBusy.Store(false)
		return
	}
	workers.Put(w)
}

// Parallel split. minPartWork is the least number of multiply-adds m·n·k per
// goroutine that pays for handing a block to the pool; partsOverride, when
// positive, replaces the GOMAXPROCS bound (for tests).
var (
	minPartWork   = 1 << 21
	partsOverride atomic.Int32
)

// pool is the persistent set of helper goroutines.
var pool struct {
	mu      sync.Mutex
	started atomic.Int32
	ch      chan *task
}

func init() {
	pool.ch = make(chan *task, 4*maxParts)
}

// ensureHelpers starts helper goroutines until at least n are running.
func ensureHelpers(n int) {
	if int(pool.started.Load()) >= n {
		return
	}
	pool.mu.Lock()
	for int(pool.started.Load()) < n {
		go helper()
		pool.started.Add(1)
	}
	pool.mu.Unlock()
}

func helper() {
	w := new(worker)
	for t := range pool.ch {
		if t.p64 != nil {
			compute(w, t.p64, t.i0, t.i1, t.j0, t.j1)
		} else {
			compute(w, t.p32, t.i0, t.i1, t.j0, t.j1)
		}
		t.wg.Done()
	}
}

// parts returns how many blocks to cut a product of m·n·k multiply-adds
// into.
func parts(work int) int {
	procs := runtime.GOMAXPROCS(0)
	if o := int(partsOverride.Load()); o > 0 {
		procs = o
	}
	procs = min(procs, maxParts)
	if procs <= 1 {
		return 1
	}
	return max(1, min(procs, work/minPartWork))
}

// run computes the whole product, in parallel when it is large enough.
func run[T elem](w *worker, p *params[T]) {
	np := parts(p.m * p.n * p.k)
	mr, nr := p.kern.mr, p.kern.nr
	tm := (p.m + mr - 1) / mr // row tiles
	tn := (p.n + nr - 1) / nr // column tiles
	splitN := tn >= tm
	if splitN {
		np = min(np, tn)
	} else {
		np = min(np, tm)
	}
	if np <= 1 {
		compute(w, p, 0, p.m, 0, p.n)
		return
	}
	ensureHelpers(np - 1)
	// Block q covers tiles [q·t/np, (q+1)·t/np) of the split dimension.
	bounds := func(q int) (i0, i1, j0, j1 int) {
		if splitN {
			return 0, p.m, min(p.n, q*tn/np*nr), min(p.n, (q+1)*tn/np*nr)
		}
		return min(p.m, q*tm/np*mr), min(p.m, (q+1)*tm/np*mr), 0, p.n
	}
	for q := 1; q < np; q++ {
		t := &w.tasks[q]
		setParams(t, p)
		t.wg = &w.wg
		t.i0, t.i1, t.j0, t.j1 = bounds(q)
		w.wg.Add(1)
		select {
		case pool.ch <- t:
		default: // pool saturated by other callers: do it here.
			compute(w, p, t.i0, t.i1, t.j0, t.j1)
			w.wg.Done()
		}
	}
	i0, i1, j0, j1 := bounds(0)
	compute(w, p, i0, i1, j0, j1)
	w.wg.Wait()
	for q := 1; q < np; q++ {
		w.tasks[q] = task{}
	}
}

// compute computes rows [i0,i1) × columns [j0,j1) of C. i0 and j0 are
// multiples of mr and nr.
func compute[T elem](w *worker, p *params[T], i0, i1, j0, j1 int) {
	ars, acs := p.lda, 1
	if p.aT {
		ars, acs = 1, p.lda
	}
	kern, mr, nr := p.kern.fn, p.kern.mr, p.kern.nr
	a, c, ldc, alpha := p.a, p.c, p.ldc, p.alpha
	kern64, c64 := p.kern.fn64, p.c64
	var zero T
	size := int(unsafe.Sizeof(zero))
	direct := !p.bT && directB(p.m*size, p.ldb*size)
	packedA := p.aT && packA(p.m, p.n, p.lda*size, size)
	bufA, bufB := buffers[T](w)
	for jc := j0; jc < j1; jc += ncMax {
		nb := min(ncMax, j1-jc)
		for pc := 0; pc < p.k; pc += p.kc {
			kb := min(p.kc, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1
			}
			bp := packB(bufB, p, pc, kb, jc, nb, direct)
			for ic := i0; ic < i1; ic += mcMax {
				mb := min(mcMax, i1-ic)
				aoff := ic*ars + pc*acs
				ablk, rsa, csa, step := a, ars, acs, ars
				if packedA {
					ablk, rsa, csa, step = packAT(bufA, p, ic, mb, pc, kb), 1, mr, kb
					aoff = 0
				}
				for jr := 0; jr < nb; jr += nr {
					nv := min(nr, nb-jr)
					bpan, rsb := bp[jr*kb:(jr+nr)*kb], nr
					if direct && nv == nr {
						bpan, rsb = p.b[pc*p.ldb+jc+jr:], p.ldb
					}
					coff := ic*ldc + jc + jr
					if c64 != nil { // Sgemm64: k ≤ kcMax, one panel
						for ir := 0; ir < mb; ir += mr {
							kern64(min(mr, mb-ir), nv, kb, ablk[aoff+ir*step:], rsa, csa, bpan, rsb, c64[coff+ir*ldc:], ldc, alpha)
						}
						continue
					}
					for ir := 0; ir < mb; ir += mr {
						kern(min(mr, mb-ir), nv, kb, ablk[aoff+ir*step:], rsa, csa, bpan, rsb, c[coff+ir*ldc:], ldc, alpha, beta)
					}
				}
			}
		}
	}
}

// packB packs rows [pc,pc+kb) × columns [jc,jc+nb) of op(B) into
// ceil(nb/nr) micro-panels of kb×nr elements, B(p,j) of micro-panel q at
// q·kb·nr + p·nr + j, padding the last one with zeros. When direct is true
// (op(B) = B) only a partial last micro-panel is packed; the full ones are
// read in place.
func packB[T elem](buf *[]T, p *params[T], pc, kb, jc, nb int, direct bool) []T {
	nr := p.kern.nr
	panels := (nb + nr - 1) / nr
	size := panels * kb * nr
	if cap(*buf) < size {
		*buf = make([]T, size)
	}
	dst := (*buf)[:size]
	b, ldb := p.b, p.ldb
	for q := range panels {
		d := dst[q*kb*nr : (q+1)*kb*nr]
		j := jc + q*nr
		nv := min(nr, jc+nb-j)
		switch {
		case !p.bT && nv == nr:
			if direct {
				continue
			}
			copyRows64B(d, b[pc*ldb+j:], ldb, kb)
		case !p.bT:
			for i := range kb {
				row := d[i*nr : i*nr+nr]
				copy(row, b[(pc+i)*ldb+j:(pc+i)*ldb+j+nv])
				clear(row[nv:])
			}
		case nv == nr:
			done := 0
			if d32, ok := any(d).([]float32); ok {
				done = transpose16(d32, any(b).([]float32), ldb, j, pc, kb)
			}
			for c0 := 0; c0 < nr && done < kb; c0 += 8 {
				transpose8(d[done*nr+c0:], nr, b, ldb, j+c0, pc+done, kb-done)
			}
		default:
			// op(B)(i,j) = b[j*ldb+i]: one source column at a time.
			if nv < nr {
				clear(d)
			}
			for jj := range nv {
				src := b[(j+jj)*ldb+pc : (j+jj)*ldb+pc+kb]
				for i, v := range src {
					d[i*nr+jj] = v
				}
			}
		}
	}
	return dst
}

// transpose8 packs eight contiguous columns of op(B) = Bᵀ (rows j…j+7 of
// b, elements pc…pc+kb−1) into kb rows of 8 elements of d, stride apart.
func transpose8[T elem](d []T, stride int, b []T, ldb, j, pc, kb int) {
	s0 := b[j*ldb+pc : j*ldb+pc+kb]
	s1 := b[(j+1)*ldb+pc:][:len(s0)]
	s2 := b[(j+2)*ldb+pc:][:len(s0)]
	s3 := b[(j+3)*ldb+pc:][:len(s0)]
	s4 := b[(j+4)*ldb+pc:][:len(s0)]
	s5 := b[(j+5)*ldb+pc:][:len(s0)]
	s6 := b[(j+6)*ldb+pc:][:len(s0)]
	s7 := b[(j+7)*ldb+pc:][:len(s0)]
	for i := range s0 {
		r := (*[8]T)(d[i*stride:])
		r[0], r[1], r[2], r[3] = s0[i], s1[i], s2[i], s3[i]
		r[4], r[5], r[6], r[7] = s4[i], s5[i], s6[i], s7[i]
	}
}

// packAT packs rows [ic,ic+mb) × columns [pc,pc+kb) of op(A) = Aᵀ into
// ceil(mb/mr) micro-panels of kb×mr elements, A(i,p) of micro-panel q at
// q·kb·mr + p·mr + i; a partial last micro-panel holds only its rows.
func packAT[T elem](buf *[]T, p *params[T], ic, mb, pc, kb int) []T {
	mr := p.kern.mr
	panels := (mb + mr - 1) / mr
	size := panels * kb * mr
	if cap(*buf) < size {
		*buf = make([]T, size)
	}
	dst := (*buf)[:size]
	a, lda := p.a, p.lda
	for q := range panels {
		d := dst[q*kb*mr : (q+1)*kb*mr]
		i := ic + q*mr
		rows := min(mr, ic+mb-i)
		if rows == mr && mr*int(unsafe.Sizeof(a[0])) == 32 {
			copyRows32B(d, a[pc*lda+i:], lda, kb)
			continue
		}
		for l := range kb {
			copy(d[l*mr:l*mr+rows], a[(pc+l)*lda+i:(pc+l)*lda+i+rows])
		}
	}
	return dst
}

// copyRows64B copies rows rows of 64 bytes, src rows ld elements apart, to
// the contiguous dst. Word copies avoid a call of memmove for every 64
// bytes.
func copyRows64B[T elem](dst, src []T, ld, rows int) {
	if rows == 0 {
		return
	}
	w := 64 / int(unsafe.Sizeof(dst[0]))
	_ = dst[rows*w-1]
	_ = src[(rows-1)*ld+w-1]
	for i := range rows {
		d, s := (*[8]uint64)(unsafe.Pointer(&dst[i*w])), (*[8]uint64)(unsafe.Pointer(&src[i*ld]))
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	}
}

// copyRows32B is copyRows64B for rows of 32 bytes.
func copyRows32B[T elem](dst, src []T, ld, rows int) {
	if rows == 0 {
		return
	}
	w := 32 / int(unsafe.Sizeof(dst[0]))
	_ = dst[rows*w-1]
	_ = src[(rows-1)*ld+w-1]
	for i := range rows {
		d, s := (*[4]uint64)(unsafe.Pointer(&dst[i*w])), (*[4]uint64)(unsafe.Pointer(&src[i*ld]))
		d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
	}
}
