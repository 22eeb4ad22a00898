package mirror_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// The model-based test of two-way sync: two repositories behind the test
// forge, random operations on random sides, two-way syncs between them,
// some cut short, and after every sync the invariants of DESIGN.md:
//
//   - no loss: everything reachable from a ref on either side before a sync
//     is reachable from a ref or a backup ref on at least one side after it
//     (the operations may lose commits, as people may; a sync never does);
//   - no spurious conflict: a ref reported in conflict moved on both sides
//     since the last-synced state the sync started from, and for a branch
//     neither commit contains the other;
//   - convergence: after a sync that was not cut, every ref not in conflict
//     is equal on both sides, and a conflicted ref was touched on neither;
//   - idempotence: a second sync changes nothing and moves no pack.
//
// Every sync is checked for all of them: no loss, no spurious conflict and
// the state right after it, convergence and idempotence after it if it ran
// uncut, and after a sync that was cut short, on the next one that runs
// uncut (which follows at once, or after more cut syncs, or after people
// pushed to either side meanwhile); a round ends only with such a check.
//   - the last-synced state L changes only to a value both sides hold (it
//     is written after both confirmed), and after a sync that was not cut
//     it is that value for every ref equal on both sides.
//
// Environment:
//
//	MIRROR_MODEL_INTERLEAVINGS=10000  how many (operations, sync) rounds in all
//	MIRROR_MODEL_SEED=123             replay one seed (as printed on failure)
//	MIRROR_MODEL_ROUNDS=30            rounds per seed
const (
	defaultInterleavings = 240
	defaultRounds        = 30
)

// modelTotals add up over every seed of one test run.
type modelTotals struct {
	interleavings, operations, syncs, cut, conflicts, quiet, violations atomic.Int64
}

func TestTwoWayModel(t *testing.T) {
	total, rounds := envInt(t, "MIRROR_MODEL_INTERLEAVINGS", defaultInterleavings), envInt(t, "MIRROR_MODEL_ROUNDS", defaultRounds)
	var seeds []int64
	if s := os.Getenv("MIRROR_MODEL_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("MIRROR_MODEL_SEED=%q is not a number", s)
		}
		seeds = append(seeds, seed)
	} else {
		base := time.Now().UnixNano()
		for i := 0; i < (total+rounds-1)/rounds; i++ {
			seeds = append(seeds, base+int64(i))
		}
	}
	tot := &modelTotals{}
	t.Cleanup(func() {
		t.Logf("two-way model: %d interleavings, %d operations, %d syncs (%d cut short), %d convergence and idempotence checks, %d conflicts reported, %d violations",
			tot.interleavings.Load(), tot.operations.Load(), tot.syncs.Load(), tot.cut.Load(), tot.quiet.Load(), tot.conflicts.Load(), tot.violations.Load())
	})
	for _, seed := range seeds {
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
			t.Parallel()
			m := newModel(t, seed, tot)
			defer func() {
				if t.Failed() {
					tot.violations.Add(1)
					t.Logf("replay with MIRROR_MODEL_SEED=%d MIRROR_MODEL_ROUNDS=%d go test -run 'TestTwoWayModel' ./internal/mirror/\nlast operations:\n%s",
						seed, rounds, strings.Join(m.history[max(0, len(m.history)-40):], "\n"))
				}
			}()
			for i := 0; i < rounds && !t.Failed(); i++ {
				m.round()
			}
			for _, s := range m.sides {
				if err := m.forge.Fsck(s.owner, "proj"); err != nil {
					t.Errorf("seed %d: %v", seed, err)
				}
			}
		})
	}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive number", name, s)
	}
	return n
}

type modelSide struct {
	owner string
	path  string // bare repository on disk
}

type model struct {
	t       *testing.T
	seed    int64
	rng     *rand.Rand
	forge   *forgetest.Forge
	sides   [2]modelSide // 0 is the source, 1 the target
	opts    mirror.Options
	state   *memState
	net     *modelTransport
	tot     *modelTotals
	parents map[plumbing.Hash][]plumbing.Hash // every commit made
	tagOf   map[plumbing.Hash]plumbing.Hash   // every annotated tag made → its commit
	n       int
	history []string
}

func newModel(t *testing.T, seed int64, tot *modelTotals) *model {
	f := forgetest.New(t)
	f.AddUser("alice", srcToken)
	f.AddUser("bob", dstToken)
	f.CreateRepo("gh", "proj")
	f.CreateRepo("ge", "proj")
	f.Grant("alice", "gh", "proj", forgetest.Write)
	f.Grant("bob", "ge", "proj", forgetest.Write)
	m := &model{
		t: t, seed: seed, rng: rand.New(rand.NewSource(seed)), forge: f, tot: tot,
		sides:   [2]modelSide{{"gh", f.RepoPath("gh", "proj")}, {"ge", f.RepoPath("ge", "proj")}},
		state:   &memState{m: map[string]string{}},
		parents: map[plumbing.Hash][]plumbing.Hash{}, tagOf: map[plumbing.Hash]plumbing.Hash{},
	}
	m.net = &modelTransport{next: mirror.DefaultHTTPClient()}
	m.opts = mirror.Options{
		HTTPClient: m.net.client(),
		Source:     mirror.Endpoint{URL: f.GitURL("gh", "proj"), Username: "alice", Token: srcToken},
		Target:     mirror.Endpoint{URL: f.GitURL("ge", "proj"), Username: "bob", Token: dstToken},
		TwoWay:     true,
		Prune:      true,
		CacheDir:   t.TempDir(),
		State:      m.state,
		Timeout:    time.Minute, RetryDelay: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	return m
}

func (m *model) logf(format string, args ...any) {
	m.history = append(m.history, fmt.Sprintf(format, args...))
}

// violation fails the seed: every invariant breach goes through here.
func (m *model) violation(format string, args ...any) {
	m.t.Helper()
	m.t.Errorf("seed %d, violation: %s", m.seed, fmt.Sprintf(format, args...))
}

// round is one interleaving: a few operations, a sync (maybe cut short)
// and its checks. A sync cut short is followed by more until one runs
// uncut: at once, or after people pushed to either side meanwhile, or after
// more syncs cut short. The uncut one must converge, and a second sync
// after it must be idempotent.
func (m *model) round() {
	m.tot.interleavings.Add(1)
	m.operateSome()
	cut := m.rng.Intn(5) < 2
	res := m.sync(cut)
	for cut && !m.t.Failed() {
		if m.rng.Intn(3) == 0 {
			m.operateSome()
		}
		cut = m.rng.Intn(4) == 0
		res = m.sync(cut)
	}
	m.checkQuiet(res)
}

func (m *model) operateSome() {
	for i, n := 0, m.rng.Intn(4); i < n; i++ {
		m.operate()
	}
}

// --- operations --------------------------------------------------------

var (
	branchPool = []string{"main", "b1", "b2", "b3"}
	tagPool    = []string{"t1", "t2", "t3"}
)

func (m *model) operate() {
	m.tot.operations.Add(1)
	s := m.rng.Intn(2)
	refs := m.refs(s)
	var branches, tags []string
	for name := range refs {
		if short, ok := strings.CutPrefix(name, "refs/heads/"); ok {
			branches = append(branches, short)
		} else if short, ok := strings.CutPrefix(name, "refs/tags/"); ok {
			tags = append(tags, short)
		}
	}
	sort.Strings(branches)
	sort.Strings(tags)
	pick := func(names []string) string { return names[m.rng.Intn(len(names))] }
	commits := m.commitsOn(refs)
	base := func() []plumbing.Hash { // a commit of this side, or none for a new root
		if len(commits) == 0 || m.rng.Intn(10) == 0 {
			return nil
		}
		return []plumbing.Hash{commits[m.rng.Intn(len(commits))]}
	}
	switch op := m.rng.Intn(8); {
	case op <= 1 && len(branches) > 0: // commit on a branch
		b := pick(branches)
		tip := m.peel(refs["refs/heads/"+b])
		m.setRef(s, "refs/heads/"+b, m.commit(s, []plumbing.Hash{tip}), "commit on")
	case op == 2 || len(branches) == 0: // new branch (or move one to a fresh commit)
		b := pick(branchPool)
		m.setRef(s, "refs/heads/"+b, m.commit(s, base()), "new branch")
	case op == 3 && len(branches) > 1: // delete a branch, not the default one (the sites refuse that)
		if b := pick(branches); b != "main" {
			m.deleteRef(s, "refs/heads/"+b)
		}
	case op == 4: // force-push a rewrite: a new commit on the tip's parent
		b := pick(branches)
		tip := m.peel(refs["refs/heads/"+b])
		m.setRef(s, "refs/heads/"+b, m.commit(s, m.parents[tip]), "rewrite")
	case op == 5 && len(commits) > 0: // create or move a lightweight tag
		m.setRef(s, "refs/tags/"+pick(tagPool), commits[m.rng.Intn(len(commits))], "lightweight tag")
	case op == 6 && len(commits) > 0: // create or move an annotated tag
		name := pick(tagPool)
		m.setRef(s, "refs/tags/"+name, m.annotated(s, name, commits[m.rng.Intn(len(commits))]), "annotated tag")
	case len(tags) > 0: // delete a tag
		m.deleteRef(s, "refs/tags/"+pick(tags))
	default:
		m.setRef(s, "refs/heads/"+pick(branchPool), m.commit(s, base()), "new branch")
	}
}

// repo opens side s's bare repository afresh: git on the forge adds packs
// between two calls, which a long-lived storage would not see.
func (m *model) repo(s int) *filesystem.Storage {
	return filesystem.NewStorage(osfs.New(m.sides[s].path), cache.NewObjectLRUDefault())
}

// encoder is a go-git object that can be written to a storage.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (m *model) store(s int, o encoder) plumbing.Hash {
	m.t.Helper()
	st := m.repo(s)
	obj := st.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		m.t.Fatal(err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		m.t.Fatal(err)
	}
	return h
}

func (m *model) sig() object.Signature {
	m.n++
	return object.Signature{Name: "Model", Email: "model@example.com", When: time.Unix(1700000000+int64(m.n), 0).UTC()}
}

// commit makes a commit on side s with a file of its own.
func (m *model) commit(s int, parents []plumbing.Hash) plumbing.Hash {
	sig := m.sig()
	blob := &plumbing.MemoryObject{}
	blob.SetType(plumbing.BlobObject)
	fmt.Fprintf(blob, "seed %d, change %d on %s\n", m.seed, m.n, m.sides[s].owner)
	st := m.repo(s)
	bh, err := st.SetEncodedObject(blob)
	if err != nil {
		m.t.Fatal(err)
	}
	tree := m.store(s, &object.Tree{Entries: []object.TreeEntry{{Name: fmt.Sprintf("f%d.txt", m.n%5), Mode: filemode.Regular, Hash: bh}}})
	c := m.store(s, &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprintf("change %d\n", m.n), TreeHash: tree, ParentHashes: parents})
	m.parents[c] = parents
	return c
}

func (m *model) annotated(s int, name string, target plumbing.Hash) plumbing.Hash {
	sig := m.sig()
	tag := m.store(s, &object.Tag{Name: name, Tagger: sig, Message: fmt.Sprintf("%s %d\n", name, m.n), TargetType: plumbing.CommitObject, Target: target})
	m.tagOf[tag] = target
	return tag
}

func (m *model) setRef(s int, name string, h plumbing.Hash, what string) {
	if err := m.repo(s).SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		m.t.Fatal(err)
	}
	m.logf("%s: %s %s = %s", m.sides[s].owner, what, name, h.String()[:7])
}

func (m *model) deleteRef(s int, name string) {
	if err := m.repo(s).RemoveReference(plumbing.ReferenceName(name)); err != nil {
		m.t.Fatal(err)
	}
	m.logf("%s: delete %s", m.sides[s].owner, name)
}

// refs lists every ref of side s, backups included.
func (m *model) refs(s int) map[string]plumbing.Hash {
	m.t.Helper()
	it, err := m.repo(s).IterReferences()
	if err != nil {
		m.t.Fatal(err)
	}
	out := map[string]plumbing.Hash{}
	_ = it.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference && strings.HasPrefix(r.Name().String(), "refs/") {
			out[r.Name().String()] = r.Hash()
		}
		return nil
	})
	return out
}

func inScope(name string) bool {
	return strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/")
}

func (m *model) peel(h plumbing.Hash) plumbing.Hash {
	if c, ok := m.tagOf[h]; ok {
		return c
	}
	return h
}

// commitsOn are the commits refs point at (through annotated tags).
func (m *model) commitsOn(refs map[string]plumbing.Hash) []plumbing.Hash {
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	for name, h := range refs {
		if c := m.peel(h); inScope(name) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// --- syncs and faults --------------------------------------------------

// sync runs one two-way sync, cut short in a random way when cut is set.
func (m *model) sync(cut bool) *mirror.Result {
	m.t.Helper()
	m.tot.syncs.Add(1)
	last := m.state.load()
	before := [2]map[string]plumbing.Hash{m.refs(0), m.refs(1)}
	had := m.reachable(0)
	for h := range m.reachable(1) {
		had[h] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	what := "quiet sync"
	var undo func()
	if cut {
		m.tot.cut.Add(1)
		what, undo = m.fault(cancel)
	}
	res, err := mirror.Sync(ctx, m.opts)
	m.forge.WaitGitIdle() // git on the forge may outlive a request the client gave up on
	if undo != nil {
		undo()
	}
	m.state.setLose(false)
	m.logf("%s: err=%v %s", what, err, summary(res))
	if err != nil && !cut {
		m.violation("quiet sync failed: %v", err)
	}
	m.checkNoLoss(had)
	m.checkState(last, res, !cut && err == nil)
	if res != nil {
		m.tot.conflicts.Add(int64(len(res.Conflicts())))
		m.checkConflicts(res, last, before)
	}
	return res
}

// fault arms one way of cutting a sync short and returns what it is and
// how to disarm it.
func (m *model) fault(cancel context.CancelFunc) (string, func()) {
	var n atomic.Int32
	switch k := m.rng.Intn(4); k {
	case 0: // the context ends at the k-th Git request; sometimes the process "dies" before saving L
		at := int32(1 + m.rng.Intn(8))
		lose := m.rng.Intn(2) == 0
		m.state.setLose(lose)
		m.forge.OnRequest(func(*http.Request) {
			if n.Add(1) == at {
				cancel()
			}
		})
		return fmt.Sprintf("sync cancelled at request %d (state lost: %v)", at, lose), func() { m.forge.OnRequest(nil) }
	case 1: // the forge drops the connection in the middle of a pack
		m.forge.DropNextPack()
		return "sync with a dropped pack", m.forge.CancelDrops
	case 2: // a hook refuses one ref on one side
		s := m.rng.Intn(2)
		ref := "refs/heads/" + branchPool[m.rng.Intn(len(branchPool))]
		if m.rng.Intn(3) == 0 {
			ref = "refs/tags/" + tagPool[m.rng.Intn(len(tagPool))]
		}
		m.forge.RejectRef(m.sides[s].owner, "proj", ref, "model: refused")
		return fmt.Sprintf("sync with %s refused on %s", ref, m.sides[s].owner), func() { m.forge.RejectRef(m.sides[s].owner, "proj", ref, "") }
	default: // the process stops right after the first (or second) push was confirmed, before anything else
		lose := m.rng.Intn(2) == 0
		m.state.setLose(lose)
		at := int32(1 + m.rng.Intn(2))
		m.net.afterPush(func() {
			if n.Add(1) == at {
				cancel()
			}
		})
		return fmt.Sprintf("sync stopped after push %d was confirmed (state lost: %v)", at, lose), func() { m.net.afterPush(nil) }
	}
}

// modelTransport carries the model's syncs. After every push whose report
// was read it runs afterPush, where a fault may stop the sync.
type modelTransport struct {
	next *http.Client
	mu   sync.Mutex
	fn   func()
}

func (t *modelTransport) client() *http.Client {
	c := *t.next
	c.Transport = t
	return &c
}

func (t *modelTransport) afterPush(fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fn = fn
}

func (t *modelTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	push := req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "git-receive-pack")
	resp, err := t.next.Transport.RoundTrip(req)
	if err != nil || !push {
		return resp, err
	}
	resp.Body = &reportBody{ReadCloser: resp.Body, done: func() {
		t.mu.Lock()
		fn := t.fn
		t.mu.Unlock()
		if fn != nil {
			fn()
		}
	}}
	return resp, nil
}

// reportBody runs done once the push report has been read to its end, or
// put down.
type reportBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *reportBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *reportBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

func summary(res *mirror.Result) string {
	if res == nil {
		return "no result"
	}
	var b strings.Builder
	for _, r := range res.Refs {
		if r.Outcome != mirror.Unchanged {
			fmt.Fprintf(&b, " %s:%s", r.Ref, r.Outcome)
			if r.Side != "" {
				fmt.Fprintf(&b, "@%s", r.Side)
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// --- invariants --------------------------------------------------------

// reachable is everything reachable from the refs of side s, backups
// included.
func (m *model) reachable(s int) map[plumbing.Hash]bool {
	seen := map[plumbing.Hash]bool{}
	var queue []plumbing.Hash
	for _, h := range m.refs(s) {
		queue = append(queue, h)
	}
	for len(queue) > 0 {
		h := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		if c, ok := m.tagOf[h]; ok {
			queue = append(queue, c)
		}
		queue = append(queue, m.parents[h]...)
	}
	return seen
}

func (m *model) checkState(last map[string]string, res *mirror.Result, quiet bool) {
	m.t.Helper()
	a, b := m.refs(0), m.refs(1)
	now := m.state.load()
	for ref, v := range now {
		if v != last[ref] && (a[ref].String() != v || b[ref].String() != v) {
			m.violation("L of %s became %s, but the sides hold %s and %s", ref, v, a[ref], b[ref])
		}
	}
	if !quiet || res == nil {
		return
	}
	for _, name := range unionInScope(a, b) {
		if a[name] == b[name] && now[name] != a[name].String() {
			m.violation("after a full sync L of %s is %q, but both sides hold %s", name, now[name], a[name])
		}
	}
	for ref := range now {
		if _, ok := a[ref]; !ok {
			if _, ok := b[ref]; !ok {
				m.violation("after a full sync L still has %s, gone from both sides", ref)
			}
		}
	}
}

func (m *model) checkNoLoss(had map[plumbing.Hash]bool) {
	m.t.Helper()
	r0, r1 := m.reachable(0), m.reachable(1)
	for h := range had {
		if !r0[h] && !r1[h] {
			m.violation("the sync lost %s: reachable from no ref or backup on either side", h)
		}
	}
}

// contains reports whether commit a is reachable from commit b.
func (m *model) contains(b, a plumbing.Hash) bool {
	seen := map[plumbing.Hash]bool{}
	queue := []plumbing.Hash{b}
	for len(queue) > 0 {
		h := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if h == a {
			return true
		}
		if !seen[h] {
			seen[h] = true
			queue = append(queue, m.parents[h]...)
		}
	}
	return false
}

// checkConflicts: a conflict is reported only when both sides moved since
// the state the sync started from, and for a branch neither commit
// contains the other; it touches neither side.
func (m *model) checkConflicts(res *mirror.Result, last map[string]string, before [2]map[string]plumbing.Hash) {
	m.t.Helper()
	for _, r := range res.Conflicts() {
		l := last[r.Ref]
		if r.Source == "" || r.Target == "" || r.Source == l || r.Target == l {
			m.violation("spurious conflict on %s: source %q, target %q, last synced %q", r.Ref, r.Source, r.Target, l)
			continue
		}
		a, b := plumbing.NewHash(r.Source), plumbing.NewHash(r.Target)
		if strings.HasPrefix(r.Ref, "refs/heads/") && (m.contains(a, b) || m.contains(b, a)) {
			m.violation("spurious conflict on %s: %s and %s are a fast-forward", r.Ref, r.Source[:12], r.Target[:12])
		}
		for s, want := range []string{r.Source, r.Target} {
			if got := m.refs(s)[r.Ref]; got.String() != want || before[s][r.Ref].String() != want {
				m.violation("conflicted %s changed on %s: was %s, reported %s, now %s", r.Ref, m.sides[s].owner, before[s][r.Ref], want, got)
			}
		}
	}
}

// checkQuiet checks a sync that was not cut: every ref not in conflict is
// equal on both sides, and a second sync changes nothing and moves no pack.
func (m *model) checkQuiet(res *mirror.Result) {
	m.t.Helper()
	if res == nil || m.t.Failed() {
		return
	}
	m.tot.quiet.Add(1)
	conflict := map[string]bool{}
	for _, r := range res.Conflicts() {
		conflict[r.Ref] = true
	}
	for _, r := range res.Refs {
		if r.Outcome != mirror.Conflict && !r.OK() {
			m.violation("quiet sync left %s %s: %s", r.Ref, r.Outcome, r.Message)
		}
	}
	a, b := m.refs(0), m.refs(1)
	for _, name := range unionInScope(a, b) {
		if !conflict[name] && a[name] != b[name] {
			m.violation("not converged: %s is %s on the source and %s on the target", name, a[name], b[name])
		}
	}
	m.forge.ResetStats()
	again := m.sync(false)
	st := m.forge.Stats()
	if again == nil {
		return
	}
	if n := len(again.Changed()); n > 0 || st.UploadPackPOSTs+st.ReceivePackPOSTs > 0 {
		m.violation("not idempotent: a second sync changed %d refs (%s) and made %d fetches, %d pushes",
			n, summary(again), st.UploadPackPOSTs, st.ReceivePackPOSTs)
	}
	if got, want := len(again.Conflicts()), len(conflict); got != want {
		m.violation("a second sync reported %d conflicts, the first %d", got, want)
	}
}

func unionInScope(a, b map[string]plumbing.Hash) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]plumbing.Hash{a, b} {
		for name := range m {
			if inScope(name) && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// memState is the last-synced state in memory. lose makes Save a no-op,
// standing for a process that died before it wrote L.
type memState struct {
	mu   sync.Mutex
	m    map[string]string
	lose bool
}

func (s *memState) Load() (map[string]string, error) { return s.load(), nil }

func (s *memState) load() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}

func (s *memState) Save(m map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lose {
		s.m = m
	}
	return nil
}

func (s *memState) setLose(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = v
}
