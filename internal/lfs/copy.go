package lfs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// Defaults of a Copier.
const (
	DefaultParallel = 8 // as git-lfs's lfs.concurrenttransfers
	DefaultAttempts = 3
)

// Copier copies LFS objects from the source's LFS server to the target's.
type Copier struct {
	Source, Target *Client
	// Parallel is how many objects are in flight at once; DefaultParallel
	// when zero.
	Parallel int
	// Attempts bounds tries per object (a corrupt or broken download, a
	// failed upload); DefaultAttempts when zero.
	Attempts int
	// RetryDelay is the first pause before another try, doubling after
	// each; one second when zero.
	RetryDelay time.Duration
	// Logger for progress; slog.Default() when nil. Never receives a token,
	// a link or a header.
	Logger *slog.Logger
}

// Report says what became of the objects a Copy was asked for.
type Report struct {
	Objects  int   `json:"objects"`  // distinct objects asked for
	Bytes    int64 `json:"bytes"`    // their total size
	Present  int   `json:"present"`  // the target already had them
	Uploaded int   `json:"uploaded"` // copied in this run
	// UploadedBytes is the size of the objects copied in this run.
	UploadedBytes int64 `json:"uploaded_bytes"`
	// Failed lists the objects not on the target after the copy.
	Failed []Failure `json:"failed,omitempty"`
	// Unavailable is set when the target has no LFS storage at all; every
	// object is then in Failed.
	Unavailable *UnavailableError `json:"-"`
}

// Failure is one object that could not be copied.
type Failure struct {
	Pointer
	Class   failure.Class `json:"error_class"`
	Message string        `json:"message"`
}

// Complete reports whether every object asked for is on the target.
func (r *Report) Complete() bool { return len(r.Failed) == 0 }

// FailedBytes is the total size of the objects not copied.
func (r *Report) FailedBytes() int64 {
	var n int64
	for _, f := range r.Failed {
		n += f.Size
	}
	return n
}

// Missing returns the set of object ids not on the target.
func (r *Report) Missing() map[string]bool {
	m := make(map[string]bool, len(r.Failed))
	for _, f := range r.Failed {
		m[f.OID] = true
	}
	return m
}

// Copy makes sure every object in objs is on the target: it asks the
// target which it lacks, then streams those from the source, several at a
// time, each verified and retried on its own. Problems with objects are in
// the Report; the error is non-nil only when ctx ended.
func (cp *Copier) Copy(ctx context.Context, objs []Pointer) (*Report, error) {
	cp.defaults()
	objs = dedupe(objs)
	rep := &Report{Objects: len(objs)}
	for _, p := range objs {
		rep.Bytes += p.Size
	}
	if len(objs) == 0 {
		return rep, nil
	}
	need, err := cp.plan(ctx, objs, rep)
	if err != nil {
		return rep, err
	}
	if len(need) == 0 {
		if rep.Complete() {
			cp.Logger.Info("LFS objects already on the target", slog.Int("objects", rep.Present))
		}
		return rep, nil
	}
	cp.Logger.Info("copying LFS objects", slog.Int("objects", len(need)), slog.Int("present", rep.Present))
	dl, err := cp.Source.Batch(ctx, Download, pointers(need))
	if err != nil {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		for _, p := range need {
			rep.fail(p.Pointer, failure.ClassOf(err), "could not ask the source for it: "+err.Error())
		}
		return rep, nil
	}
	links := map[string]Object{}
	for _, o := range dl {
		links[o.OID] = o
	}

	// Largest first: a big object started last would run on alone at the
	// end, while the small ones fill the gaps around the big ones.
	sort.SliceStable(need, func(i, j int) bool { return need[i].Size > need[j].Size })
	// Parallel objects move data at a time; as many more may be waiting
	// for the target to verify an upload, which moves no data.
	slots := make(chan struct{}, cp.Parallel)
	jobs := make(chan want)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(2*cp.Parallel, len(need)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range jobs {
				err := cp.copyOne(ctx, w, links[w.OID], slots)
				mu.Lock()
				if err != nil {
					rep.fail(w.Pointer, classOf(err), err.Error())
				} else {
					rep.Uploaded++
					rep.UploadedBytes += w.Size
				}
				mu.Unlock()
			}
		}()
	}
	for _, w := range need {
		select {
		case jobs <- w:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(rep.Failed, func(i, j int) bool { return rep.Failed[i].OID < rep.Failed[j].OID })
	cp.Logger.Info("copied LFS objects", slog.Int("uploaded", rep.Uploaded), slog.Int64("bytes", rep.UploadedBytes), slog.Int("failed", len(rep.Failed)))
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	return rep, nil
}

// want is an object the target lacks, with the target's upload actions.
type want struct {
	Pointer
	actions map[string]*Action
}

// plan asks the target which objects it lacks.
func (cp *Copier) plan(ctx context.Context, objs []Pointer, rep *Report) ([]want, error) {
	ul, err := cp.Target.Batch(ctx, Upload, objs)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *UnavailableError
		if errors.As(err, &ue) {
			rep.Unavailable = ue
		}
		for _, p := range objs {
			rep.fail(p, failure.ClassOf(err), err.Error())
		}
		return nil, nil
	}
	answered := map[string]Object{}
	for _, o := range ul {
		answered[o.OID] = o
	}
	var need []want
	for _, p := range objs {
		o, ok := answered[p.OID]
		switch {
		case !ok:
			rep.fail(p, failure.Internal, "the target's LFS server did not answer for it")
		case o.Error != nil:
			rep.fail(p, objectErrorClass(o.Error.Code), "the target's LFS server refused it: "+cp.Target.redact(o.Error.Message))
		case o.Actions["upload"] == nil:
			rep.Present++
		default:
			need = append(need, want{Pointer: p, actions: o.Actions})
		}
	}
	return need, nil
}

func (r *Report) fail(p Pointer, c failure.Class, msg string) {
	r.Failed = append(r.Failed, Failure{Pointer: p, Class: c, Message: msg})
}

// copyOne streams one object from the source to the target, trying again
// with fresh links after a failure that another try may fix. It holds one
// of slots while data moves.
func (cp *Copier) copyOne(ctx context.Context, w want, dl Object, slots chan struct{}) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = cp.tryOne(ctx, w, dl, slots)
		if err == nil || attempt >= cp.Attempts || ctx.Err() != nil || !retryable(err) {
			return err
		}
		cp.Logger.Debug("retrying LFS object", slog.String("oid", w.OID), slog.Int("attempt", attempt+1), slog.String("reason", err.Error()))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(cp.RetryDelay << (attempt - 1)):
		}
		// Links may have expired or been single-use: ask both sides again.
		fresh, ferr := cp.refresh(ctx, w)
		if ferr != nil {
			return ferr
		}
		if fresh == nil {
			return nil // the target has it now
		}
		w, dl = fresh.up, fresh.down
	}
}

type links struct {
	up   want
	down Object
}

// refresh asks both servers again for w's links; nil when the target
// already has the object.
func (cp *Copier) refresh(ctx context.Context, w want) (*links, error) {
	ul, err := cp.Target.Batch(ctx, Upload, []Pointer{w.Pointer})
	if err != nil {
		return nil, err
	}
	if len(ul) != 1 || ul[0].Error != nil {
		return nil, objectProblem(cp.Target, ul)
	}
	if ul[0].Actions["upload"] == nil {
		return nil, nil
	}
	dl, err := cp.Source.Batch(ctx, Download, []Pointer{w.Pointer})
	if err != nil {
		return nil, err
	}
	if len(dl) != 1 {
		return nil, objectProblem(cp.Source, dl)
	}
	return &links{up: want{Pointer: w.Pointer, actions: ul[0].Actions}, down: dl[0]}, nil
}

func objectProblem(c *Client, got []Object) error {
	if len(got) == 1 && got[0].Error != nil {
		return failure.New(objectErrorClass(got[0].Error.Code), "the %s's LFS server refused it: %s", c.side, c.redact(got[0].Error.Message))
	}
	return failure.New(failure.Internal, "the %s's LFS server did not answer for it", c.side)
}

// tryOne is one download-and-upload of an object, holding one of slots
// until the data has moved, then its verification if the target asks for
// one.
func (cp *Copier) tryOne(ctx context.Context, w want, dl Object, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return cp.Target.transportError(ctx, ctx.Err(), "upload of "+short(w.OID))
	}
	err := cp.move(ctx, w, dl)
	<-slots
	if err != nil {
		return err
	}
	if v := w.actions["verify"]; v != nil {
		return cp.Target.verify(ctx, w.Pointer, v)
	}
	return nil
}

// move streams an object's data from the source to the target, checked
// against its pointer on the way.
func (cp *Copier) move(ctx context.Context, w want, dl Object) error {
	if dl.Error != nil {
		if dl.Error.Code == 404 || dl.Error.Code == 410 {
			return failure.New(failure.NotFound, "the source's LFS storage does not have it (%s); the source repository is missing this object", cp.Source.redact(dl.Error.Message))
		}
		return failure.New(objectErrorClass(dl.Error.Code), "the source's LFS server refused it: %s", cp.Source.redact(dl.Error.Message))
	}
	get := dl.Actions["download"]
	if get == nil {
		return failure.New(failure.Internal, "the source's LFS server gave no download link for it")
	}
	now := time.Now()
	if get.expired(now) || w.actions["upload"].expired(now) {
		return errExpired
	}
	body, err := cp.Source.open(ctx, w.Pointer, get)
	if err != nil {
		return err
	}
	defer body.Close()
	v := newVerifier(body, w.Pointer)
	err = cp.Target.put(ctx, w.Pointer, w.actions, v)
	if v.err != nil && v.err != io.EOF {
		if errors.Is(v.err, errCorrupt) {
			return corrupt(cp.Source.side, w.Pointer, v.err)
		}
		return cp.Source.transportError(ctx, v.err, "download of "+short(w.OID))
	}
	if err == nil && v.n != w.Size {
		// The upload ended before the whole object was read and checked.
		return failure.New(failure.Internal, "the target's LFS storage accepted %s before all of it was sent", short(w.OID))
	}
	return err
}

// errExpired is a link past its expiry: fetched again before the next try.
var errExpired = failure.New(failure.Network, "the LFS links expired before the transfer started")

// retryable reports whether another try may succeed.
func retryable(err error) bool {
	var ce *corruptError
	if errors.As(err, &ce) {
		return true
	}
	switch failure.ClassOf(err) {
	case failure.Network, failure.Timeout, failure.RateLimited, failure.Auth, failure.Permission:
		// 401 and 403 from storage usually mean a link's signature expired.
		return true
	}
	return false
}

func objectErrorClass(code int) failure.Class {
	switch {
	case code == 401:
		return failure.Auth
	case code == 403:
		return failure.Permission
	case code == 404 || code == 410:
		return failure.NotFound
	case code == 429:
		return failure.RateLimited
	case code >= 500:
		return failure.Network
	}
	return failure.Rejected
}

func (cp *Copier) defaults() {
	if cp.Parallel <= 0 {
		cp.Parallel = DefaultParallel
	}
	if cp.Attempts <= 0 {
		cp.Attempts = DefaultAttempts
	}
	if cp.RetryDelay <= 0 {
		cp.RetryDelay = time.Second
	}
	if cp.Logger == nil {
		cp.Logger = slog.Default()
	}
}

// dedupe drops repeated objects, keeping the first of each oid.
func dedupe(objs []Pointer) []Pointer {
	seen := make(map[string]bool, len(objs))
	out := make([]Pointer, 0, len(objs))
	for _, p := range objs {
		if !seen[p.OID] {
			seen[p.OID] = true
			out = append(out, p)
		}
	}
	return out
}

func pointers(ws []want) []Pointer {
	out := make([]Pointer, len(ws))
	for i, w := range ws {
		out[i] = w.Pointer
	}
	return out
}
