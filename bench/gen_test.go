package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
)

// Shape of the generated repository. With these values git fast-import
// writes about 120,000 objects (commits, trees, blobs, annotated tags) in a
// few tens of seconds; the benchmark fails if there are fewer than
// minObjects.
const (
	topDirs     = 12   // top-level directories
	subDirs     = 5    // directories in each
	filesPerDir = 6    // files in each of those: 360 files
	mainCommits = 9000 // commits on main
	devFrom     = 6500 // main commit where the dev branch starts
	devEvery    = 6    // after devFrom, one dev commit per devEvery main commits
	tagEvery    = 100  // a v0.N.0 tag every tagEvery main commits (even N annotated)
	branchEvery = 1000 // a release-N branch every branchEvery main commits
	minObjects  = 100_000
	genEpoch    = 1600000000
	genSeed     = 20240601
)

var topNames = []string{"cmd", "internal", "pkg", "api", "web", "tools", "docs", "store", "sync", "auth", "jobs", "util"}

var subNames = []string{"core", "http", "model", "test", "config"}

var words = strings.Fields(`
	request response client server handler config option value result error
	context cancel timeout retry backoff queue worker job task token secret
	commit tree blob tag branch ref remote mirror source target pack object
	index delta stream buffer reader writer channel mutex lock state store
	cache entry key record table query row column schema migrate version
	user owner repo name path file dir list map set count size offset limit
	start stop run wait close open read write parse format encode decode
	check verify hash sign build make new init load save update delete create`)

var idents = strings.Fields(`ctx req resp err n buf cfg opts res out in key val id ok i j
	cur next prev head tail sum total name path dir ref hash h w r b s t`)

var types = strings.Fields(`int int64 string []byte error bool *Config *Client Result []string
	map[string]string time.Duration io.Reader io.Writer context.Context`)

// generator writes a git fast-import stream: a history of realistic,
// slowly changing text files, so that packs delta well.
type generator struct {
	rng   *rand.Rand
	paths []string
	files [][]string // lines of each file, as on main
	when  int64
	mark  int
	w     *bufio.Writer
	n     int // commits written
}

func newGenerator() *generator {
	g := &generator{rng: rand.New(rand.NewPCG(genSeed, genSeed^0x9e3779b97f4a7c15)), when: genEpoch}
	for t := range topDirs {
		for s := range subDirs {
			for f := range filesPerDir {
				g.paths = append(g.paths, fmt.Sprintf("%s/%s/%s_%s.go", topNames[t], subNames[s], g.word(), fmt.Sprint(f)))
			}
		}
	}
	for range g.paths {
		n := 30 + g.rng.IntN(90)
		lines := make([]string, n)
		for i := range lines {
			lines[i] = g.line()
		}
		g.files = append(g.files, lines)
	}
	return g
}

func (g *generator) word() string  { return words[g.rng.IntN(len(words))] }
func (g *generator) ident() string { return idents[g.rng.IntN(len(idents))] }

func (g *generator) camel() string {
	a, b := g.word(), g.word()
	return strings.ToUpper(a[:1]) + a[1:] + strings.ToUpper(b[:1]) + b[1:]
}

// line returns one line of Go-looking code.
func (g *generator) line() string {
	switch g.rng.IntN(10) {
	case 0:
		return fmt.Sprintf("func (%s *%s) %s(%s %s) (%s, error) {", g.ident(), g.camel(), g.camel(), g.ident(), types[g.rng.IntN(len(types))], types[g.rng.IntN(len(types))])
	case 1:
		return "}"
	case 2:
		var b strings.Builder
		b.WriteString("\t//")
		for range 5 + g.rng.IntN(8) {
			b.WriteByte(' ')
			b.WriteString(g.word())
		}
		return b.String()
	case 3:
		return fmt.Sprintf("\tif err := %s.%s(ctx, %s); err != nil {", g.ident(), g.camel(), g.ident())
	case 4:
		return fmt.Sprintf("\t\treturn fmt.Errorf(\"%s %s: %%w\", err)", g.word(), g.word())
	case 5:
		return fmt.Sprintf("\t%s := %s(%s, %d)", g.ident(), g.camel(), g.ident(), g.rng.IntN(4096))
	case 6:
		return fmt.Sprintf("\tfor %s := range %s.%s {", g.ident(), g.ident(), g.camel())
	case 7:
		return fmt.Sprintf("\t%s.%s = append(%s.%s, %s)", g.ident(), g.camel(), g.ident(), g.camel(), g.ident())
	case 8:
		return ""
	default:
		return fmt.Sprintf("\treturn %s, nil", g.ident())
	}
}

// edit changes one file a little: a few lines replaced, inserted or deleted.
func (g *generator) edit(i int) {
	lines := g.files[i]
	for range 1 + g.rng.IntN(3) {
		op := g.rng.IntN(10)
		switch {
		case len(lines) > 220:
			op = 9
		case len(lines) < 20:
			op = 5
		}
		at := g.rng.IntN(len(lines))
		switch {
		case op < 5: // replace
			lines[at] = g.line()
		case op < 8: // insert
			k := 1 + g.rng.IntN(4)
			add := make([]string, k)
			for j := range add {
				add[j] = g.line()
			}
			lines = append(lines[:at], append(add, lines[at:]...)...)
		default: // delete
			k := 1 + g.rng.IntN(2)
			if at+k > len(lines) {
				k = len(lines) - at
			}
			lines = append(lines[:at], lines[at+k:]...)
		}
	}
	g.files[i] = lines
}

func (g *generator) content(i int) string { return strings.Join(g.files[i], "\n") + "\n" }

func (g *generator) data(s string) {
	fmt.Fprintf(g.w, "data %d\n%s\n", len(s), s)
}

var authors = []string{"Ada Lovelace <ada@example.com>", "Grace Hopper <grace@example.com>", "Ken Thompson <ken@example.com>", "Barbara Liskov <barbara@example.com>"}

// commit writes one commit on branch changing the files at idx (all files
// if idx is nil) and returns its mark.
func (g *generator) commit(branch, from string, idx []int) int {
	g.mark++
	g.n++
	g.when += 60 + int64(g.rng.IntN(3600))
	who := authors[g.rng.IntN(len(authors))]
	fmt.Fprintf(g.w, "commit %s\nmark :%d\nauthor %s %d +0000\ncommitter %s %d +0000\n", branch, g.mark, who, g.when, who, g.when)
	g.data(fmt.Sprintf("%s: %s the %s %s\n\nChange %d: %s %s %s when the %s %s.\n",
		topNames[g.rng.IntN(len(topNames))], g.word(), g.word(), g.word(), g.n, g.word(), g.word(), g.word(), g.word(), g.word()))
	if from != "" {
		fmt.Fprintf(g.w, "from %s\n", from)
	}
	if idx == nil {
		for i := range g.paths {
			fmt.Fprintf(g.w, "M 100644 inline %s\n", g.paths[i])
			g.data(g.content(i))
		}
		return g.mark
	}
	for _, i := range idx {
		g.edit(i)
		fmt.Fprintf(g.w, "M 100644 inline %s\n", g.paths[i])
		g.data(g.content(i))
	}
	return g.mark
}

// change picks the files of one ordinary commit: a handful, mostly in one
// area of the tree, as real changes are.
func (g *generator) change() []int {
	area := g.rng.IntN(topDirs)
	k := 3 + g.rng.IntN(5)
	seen := map[int]bool{}
	var idx []int
	for len(idx) < k {
		var i int
		if g.rng.IntN(4) == 0 {
			i = g.rng.IntN(len(g.paths))
		} else {
			i = area*subDirs*filesPerDir + g.rng.IntN(subDirs*filesPerDir)
		}
		if !seen[i] {
			seen[i] = true
			idx = append(idx, i)
		}
	}
	return idx
}

// to sends what the generator writes next to w.
func (g *generator) to(w io.Writer) { g.w = bufio.NewWriterSize(w, 1<<20) }

// history writes the whole source history: main, a dev branch that forks
// off late, release branches and tags (half of them annotated).
func (g *generator) history() error {
	for c := range mainCommits {
		var m int
		if c == 0 {
			m = g.commit("refs/heads/main", "", nil)
		} else {
			m = g.commit("refs/heads/main", "", g.change())
		}
		if c == devFrom {
			fmt.Fprintf(g.w, "reset refs/heads/dev\nfrom :%d\n\n", m)
		}
		if c > devFrom && c%devEvery == 0 {
			g.commit("refs/heads/dev", "", g.change())
		}
		if (c+1)%tagEvery == 0 {
			n := (c + 1) / tagEvery
			name := fmt.Sprintf("v0.%d.0", n)
			if n%2 == 0 {
				fmt.Fprintf(g.w, "tag %s\nfrom :%d\ntagger %s %d +0000\n", name, m, authors[0], g.when)
				g.data("Release " + name + "\n")
			} else {
				fmt.Fprintf(g.w, "reset refs/tags/%s\nfrom :%d\n\n", name, m)
			}
		}
		if (c+1)%branchEvery == 0 {
			fmt.Fprintf(g.w, "reset refs/heads/release-%d\nfrom :%d\n\n", (c+1)/branchEvery, m)
		}
	}
	return g.w.Flush()
}

// oneMore writes one more commit on main, for a fast-import run against the
// existing repository (marks do not survive between runs).
func (g *generator) oneMore() error {
	g.commit("refs/heads/main", "refs/heads/main^0", g.change())
	return g.w.Flush()
}

// fastImport runs git fast-import in the bare repository dir, feeding it
// what write produces.
func fastImport(dir string, env []string, write func(w io.Writer) error) error {
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	werr := write(in)
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if werr != nil {
		return fmt.Errorf("writing the fast-import stream: %w", werr)
	}
	return nil
}
