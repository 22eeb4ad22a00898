package forgetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// InProcessRefAdvertisement makes the forge answer ref advertisements
// (GET info/refs, protocol v0, both services) itself, with the bytes `git
// http-backend` would send, when a repository's refs are all in a fully
// peeled packed-refs file; anything else (a loose ref, protocol v2, a
// fetch or a push) still goes to git. A benchmark that lists thousands of
// repositories uses it: two git processes per listing would take the
// cores of the program measured, while GitHub and Gitee answer listings
// on machines of their own.
func InProcessRefAdvertisement() Option { return func(c *config) { c.inProcessRefs = true } }

// advCaps are the capabilities this machine's git advertises, read once
// per forge from a throw-away repository (advertise.go's probe).
type advCaps struct {
	once            sync.Once
	upload, receive string // without symref=
	// symrefAt is the upload-pack capability git puts right after
	// symref= ("" for the end): where withSymref puts it back.
	symrefAt string
	err      error
}

// serveRefsInProcess answers GET info/refs for k when the repository's
// refs allow it, and reports whether it did.
func (f *Forge) serveRefsInProcess(w http.ResponseWriter, r *http.Request, owner, repo string, k kind) bool {
	if strings.Contains(r.Header.Get("Git-Protocol"), "version=2") {
		return false
	}
	caps, err := f.advertisedCaps()
	if err != nil {
		return false
	}
	dir := f.RepoPath(owner, repo)
	refs, ok := packedRefs(dir)
	if !ok {
		return false
	}
	service := "git-upload-pack"
	if k == infoRefsReceive {
		service = "git-receive-pack"
	}
	var body bytes.Buffer
	pkt := func(s string) { fmt.Fprintf(&body, "%04x%s", len(s)+4, s) }
	pkt("# service=" + service + "\n")
	body.WriteString("0000")
	first := true
	line := func(oid, name, c string) {
		if first {
			pkt(oid + " " + name + "\x00" + c + "\n")
			first = false
			return
		}
		pkt(oid + " " + name + "\n")
	}
	if k == infoRefsUpload {
		c := caps.upload
		if head := headBranch(dir); head != "" {
			if i := slices.IndexFunc(refs, func(p packedRef) bool { return p.name == "refs/heads/"+head }); i >= 0 {
				line(refs[i].oid, "HEAD", withSymref(c, caps.symrefAt, head))
			}
		}
		for _, p := range refs {
			line(p.oid, p.name, c)
			if p.peeled != "" {
				pkt(p.peeled + " " + p.name + "^{}\n")
			}
		}
	} else {
		for _, p := range refs {
			line(p.oid, p.name, caps.receive)
		}
		if first {
			line(strings.Repeat("0", 40), "capabilities^{}", caps.receive)
		}
	}
	body.WriteString("0000")
	f.answerInProcess(w, "application/x-"+service+"-advertisement", body.Bytes(), &f.stats.InfoRefsInProcess)
	return true
}

// answerInProcess sends body as git http-backend sends an answer (its
// headers, status 200) and counts it in *counter, a field of f.stats.
func (f *Forge) answerInProcess(w http.ResponseWriter, contentType string, body []byte, counter *int) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Expires", "Fri, 01 Jan 1980 00:00:00 GMT")
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-cache, max-age=0, must-revalidate")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	f.mu.Lock()
	*counter++
	f.mu.Unlock()
}

// serveLsRefsInProcess answers a protocol v2 ls-refs (r's body, read
// whole) when the repository's refs allow it, as serveRefsInProcess does
// an advertisement, with the lines git's ls-refs would send for the
// arguments given (ref-prefix, peel, symrefs), and reports whether it did.
// An argument it does not know, or "unborn", leaves the answer to git.
func (f *Forge) serveLsRefsInProcess(w http.ResponseWriter, r *http.Request, owner, repo string) bool {
	args, ok := lsRefsArgs(r)
	if !ok {
		return false
	}
	var prefixes []string
	peel, symrefs := false, false
	for _, a := range args {
		switch p, isPrefix := strings.CutPrefix(a, "ref-prefix "); {
		case isPrefix:
			prefixes = append(prefixes, p)
		case a == "peel":
			peel = true
		case a == "symrefs":
			symrefs = true
		default:
			return false
		}
	}
	dir := f.RepoPath(owner, repo)
	refs, ok := packedRefs(dir)
	if !ok {
		return false
	}
	wanted := func(name string) bool {
		return len(prefixes) == 0 || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
	}
	var body bytes.Buffer
	pkt := func(s string) { fmt.Fprintf(&body, "%04x%s", len(s)+4, s) }
	if head := headBranch(dir); head != "" && wanted("HEAD") {
		if i := slices.IndexFunc(refs, func(p packedRef) bool { return p.name == "refs/heads/"+head }); i >= 0 {
			line := refs[i].oid + " HEAD"
			if symrefs {
				line += " symref-target:refs/heads/" + head
			}
			pkt(line + "\n")
		}
	}
	for _, p := range refs {
		if !wanted(p.name) {
			continue
		}
		line := p.oid + " " + p.name
		if peel && p.peeled != "" {
			line += " peeled:" + p.peeled
		}
		pkt(line + "\n")
	}
	body.WriteString("0000")
	f.answerInProcess(w, "application/x-git-upload-pack-result", body.Bytes(), &f.stats.LsRefsInProcess)
	return true
}

// lsRefsArgs reads an ls-refs request from r's body and returns its
// arguments (the lines after the delim-pkt); ok is false for a body that
// is not one, which is left to git. The body is read again from its start
// afterwards, for git.
func lsRefsArgs(r *http.Request) (args []string, ok bool) {
	seeker, isSeeker := r.Body.(io.Seeker)
	if !isSeeker {
		return nil, false
	}
	defer seeker.Seek(0, io.SeekStart)
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return nil, false
	}
	pkts, ok := splitPkts(b, true)
	if !ok || len(pkts) == 0 || !pkts[len(pkts)-1].flush {
		return nil, false
	}
	inArgs := false
	for _, p := range pkts[:len(pkts)-1] {
		line := strings.TrimSuffix(string(p.data), "\n")
		switch {
		case p.flush:
			return nil, false
		case p.delim:
			inArgs = true
		case inArgs:
			args = append(args, line)
		case strings.HasPrefix(line, "command=") && line != "command=ls-refs":
			return nil, false
		}
	}
	return args, inArgs
}

// withSymref adds HEAD's symref to upload-pack's capabilities where git
// puts it: before the capability at (the probe's), or at the end.
func withSymref(caps, at, head string) string {
	symref := "symref=HEAD:refs/heads/" + head
	fs := strings.Fields(caps)
	if i := slices.Index(fs, at); at != "" && i >= 0 {
		return strings.Join(slices.Insert(fs, i, symref), " ")
	}
	return caps + " " + symref
}

// packedRef is a line of packed-refs with its peeled object, if any.
type packedRef struct {
	oid, name, peeled string
}

// packedRefs reads a bare repository's refs when every one of them is in a
// packed-refs file that records peeled objects fully (as `git pack-refs`
// writes it), sorted by name as git sends them; ok is false when a loose
// ref exists or the file says less, so that git answers.
func packedRefs(dir string) (refs []packedRef, ok bool) {
	loose := false
	filepath.WalkDir(filepath.Join(dir, "refs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			loose = true
			return fs.SkipAll
		}
		return nil
	})
	if loose {
		return nil, false
	}
	file, err := os.Open(filepath.Join(dir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true // no refs at all
	}
	if err != nil {
		return nil, false
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for n := 0; sc.Scan(); n++ {
		text := sc.Text()
		switch {
		case n == 0 && strings.HasPrefix(text, "# pack-refs with:"):
			if !slices.Contains(strings.Fields(text), "fully-peeled") {
				return nil, false
			}
		case n == 0:
			return nil, false // no traits: peeled objects unknown
		case strings.HasPrefix(text, "^") && len(refs) > 0:
			refs[len(refs)-1].peeled = text[1:]
		default:
			oid, name, found := strings.Cut(text, " ")
			if !found || len(oid) != 40 {
				return nil, false
			}
			refs = append(refs, packedRef{oid: oid, name: name})
		}
	}
	if sc.Err() != nil {
		return nil, false
	}
	slices.SortFunc(refs, func(a, b packedRef) int { return strings.Compare(a.name, b.name) })
	return refs, true
}

// advertisedCaps probes, once, what git advertises for each service, from
// a repository with one commit made in the forge's home.
func (f *Forge) advertisedCaps() (*advCaps, error) {
	c := &f.advCaps
	c.once.Do(func() {
		dir := filepath.Join(f.home, "caps-probe.git")
		if _, c.err = runGit(f.home, "", "init", "--bare", "-q", "-b", "main", dir); c.err != nil {
			return
		}
		// The forge's repositories allow partial clone's filters (bare.go),
		// and git advertises "filter" for them: so must the probe.
		if _, c.err = runGit(f.home, dir, "config", "uploadpack.allowFilter", "true"); c.err != nil {
			return
		}
		tree, err := runGit(f.home, dir, "mktree")
		if c.err = err; err != nil {
			return
		}
		commit, err := runGit(f.home, dir, "-c", "user.name=probe", "-c", "user.email=probe@example.invalid", "commit-tree", "-m", "probe", strings.TrimSpace(tree))
		if c.err = err; err != nil {
			return
		}
		if _, c.err = runGit(f.home, dir, "update-ref", "refs/heads/main", strings.TrimSpace(commit)); c.err != nil {
			return
		}
		capsOf := func(service string) (caps, at string, err error) {
			out, err := runGit(f.home, dir, service, "--stateless-rpc", "--advertise-refs", ".")
			if err != nil {
				return "", "", err
			}
			_, after, ok := strings.Cut(out, "\x00")
			if !ok {
				return "", "", fmt.Errorf("no capabilities in git %s's advertisement", service)
			}
			line, _, _ := strings.Cut(after, "\n")
			var keep []string
			fields := strings.Fields(line)
			for i, c := range fields {
				if !strings.HasPrefix(c, "symref=") {
					keep = append(keep, c)
				} else if i+1 < len(fields) {
					at = fields[i+1]
				}
			}
			return strings.Join(keep, " "), at, nil
		}
		if c.upload, c.symrefAt, c.err = capsOf("upload-pack"); c.err != nil {
			return
		}
		c.receive, _, c.err = capsOf("receive-pack")
	})
	return c, c.err
}
