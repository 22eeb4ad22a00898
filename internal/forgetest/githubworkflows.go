package forgetest

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// GitHub refuses a push by a GitHub App token without the workflows
// permission when it adds, changes or removes a file under
// .github/workflows/, ref by ref: the other refs of the push land. The forge
// does the same for installation tokens whose permissions lack workflows
// write. For such a push only, it runs git http-backend with core.hooksPath
// pointing at its own hooks (they first run the repository's own hooks,
// those of RejectRef and archived repositories); its update hook refuses the
// ref and records why in a file named by FORGETEST_WORKFLOWS_LOG, a
// per-request path (the token itself never reaches the CGI environment).
// receive-pack can only report such a ref as "hook declined", so the forge
// then rewrites the ref's status in the report to GitHub's words:
//
//	! [remote rejected] main -> main (refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission)

// workflowsLogEnv names the file the update hook records refused refs in.
const workflowsLogEnv = "FORGETEST_WORKFLOWS_LOG"

// workflowHooks is the hooks directory for pushes without workflows write,
// made once per forge.
type workflowHooks struct {
	once sync.Once
	dir  string
	err  error
}

// workflowUpdateHook is the update hook; {BQ} stands for a backquote.
var workflowUpdateHook = strings.NewReplacer("{BQ}", "`", "{LOG}", workflowsLogEnv).Replace(`#!/bin/sh
# Installed by forgetest: GitHub's rule for GitHub App tokens without the
# workflows permission. Runs the repository's own update hook first.
gitdir=$(git rev-parse --absolute-git-dir) || exit 1
if [ -x "$gitdir/hooks/update" ]; then "$gitdir/hooks/update" "$@" || exit 1; fi
ref=$1 old=$2 new=$3
case $new in *[!0]*) ;; *) exit 0 ;; esac
# New commits that touch .github/workflows/, each against its first parent.
path=$(git -c core.quotepath=off log --format= --name-only --no-renames --root --full-history \
	--diff-merges=first-parent "$new" --not --all -- .github/workflows/ | sed -n '/./{p;q;}')
# A ref moved to commits the repository already had: its tree changed there.
case $old in *[!0]*)
	[ -n "$path" ] || path=$(git -c core.quotepath=off diff-tree -r --name-only --no-renames "$old" "$new" -- .github/workflows/ | sed -n '/./{p;q;}')
esac
[ -n "$path" ] || exit 0
msg="refusing to allow a GitHub App to create or update workflow \{BQ}$path\{BQ} without \{BQ}workflows\{BQ} permission"
[ -n "${LOG}" ] && printf '%s\t%s\n' "$ref" "$msg" >> "${LOG}"
exit 1
`)

const workflowPreReceiveHook = `#!/bin/sh
# Installed by forgetest: runs the repository's own pre-receive hook.
gitdir=$(git rev-parse --absolute-git-dir) || exit 1
if [ -x "$gitdir/hooks/pre-receive" ]; then exec "$gitdir/hooks/pre-receive"; fi
cat >/dev/null
exit 0
`

// hooksDir makes the workflow hooks directory on first use.
func (f *Forge) hooksDir() (string, error) {
	h := &f.workflows
	h.once.Do(func() {
		h.dir = filepath.Join(filepath.Dir(f.repos), "workflow-hooks")
		h.err = os.Mkdir(h.dir, 0o700)
		if h.err == nil {
			h.err = os.WriteFile(filepath.Join(h.dir, "update"), []byte(workflowUpdateHook), 0o700)
		}
		if h.err == nil {
			h.err = os.WriteFile(filepath.Join(h.dir, "pre-receive"), []byte(workflowPreReceiveHook), 0o700)
		}
	})
	return h.dir, h.err
}

// workflowGuard prepares a receive-pack request by an installation token
// without workflows write: the CGI environment to add, and a function that
// sends the buffered response with GitHub's reasons. ok is false for other
// requests.
func (f *Forge) workflowGuard(r *http.Request, k kind) (env []string, wrap func(http.ResponseWriter) (http.ResponseWriter, func()), ok bool, err error) {
	if k != receivePack {
		return nil, nil, false, nil
	}
	_, token, _ := r.BasicAuth()
	inst := f.installOf(token)
	if inst == nil || inst.perms.allows("workflows", "write") {
		return nil, nil, false, nil
	}
	dir, err := f.hooksDir()
	if err != nil {
		return nil, nil, false, err
	}
	logFile, err := os.CreateTemp(f.spool, "workflows-")
	if err != nil {
		return nil, nil, false, err
	}
	logFile.Close()
	env = []string{
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.hooksPath", "GIT_CONFIG_VALUE_0=" + dir,
		workflowsLogEnv + "=" + logFile.Name(),
	}
	wrap = func(w http.ResponseWriter) (http.ResponseWriter, func()) {
		b := &bufferedResponse{ResponseWriter: w}
		return b, func() {
			reasons := readReasons(logFile.Name())
			os.Remove(logFile.Name())
			body := b.buf.Bytes()
			if len(reasons) > 0 {
				body = rewriteReport(body, reasons)
			}
			if b.status != 0 {
				w.WriteHeader(b.status)
			}
			w.Write(body)
		}
	}
	return env, wrap, true, nil
}

// readReasons reads the refused refs the update hook recorded.
func readReasons(path string) map[string]string {
	file, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer file.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if ref, msg, ok := strings.Cut(sc.Text(), "\t"); ok {
			out[ref] = msg
		}
	}
	return out
}

// bufferedResponse keeps a response's body until the forge has read the
// hooks' verdicts.
type bufferedResponse struct {
	http.ResponseWriter
	buf    bytes.Buffer
	status int
}

func (b *bufferedResponse) WriteHeader(code int) {
	b.ResponseWriter.Header().Del("Content-Length") // the body may change
	b.status = code
}

func (b *bufferedResponse) Write(p []byte) (int, error) { return b.buf.Write(p) }

// rewriteStatus replaces "ng <ref> hook declined" in report-status
// pkt-lines with GitHub's reason for the refs in reasons.
func rewriteStatus(report []byte, reasons map[string]string) ([]byte, bool) {
	pkts, ok := splitPkts(report, false)
	if !ok {
		return nil, false
	}
	var out []byte
	for _, p := range pkts {
		if p.flush {
			out = append(out, "0000"...)
			continue
		}
		line := strings.TrimSuffix(string(p.data), "\n")
		if rest, isNG := strings.CutPrefix(line, "ng "); isNG {
			ref, _, _ := strings.Cut(rest, " ")
			if msg, refused := reasons[ref]; refused {
				out = appendPkt(out, []byte("ng "+ref+" "+msg+"\n"))
				continue
			}
		}
		out = appendPkt(out, p.data)
	}
	return out, true
}

// sidebandMax is the most data one side-band-64k packet carries.
const sidebandMax = 65520 - 5

// rewriteReport rewrites a receive-pack response, with or without
// side-band, giving refused refs GitHub's reasons. Progress and error
// packets keep their order and come before the report. A response it
// cannot parse is returned as it is.
func rewriteReport(body []byte, reasons map[string]string) []byte {
	pkts, ok := splitPkts(body, false)
	if !ok || len(pkts) == 0 || pkts[0].flush || len(pkts[0].data) == 0 {
		return body
	}
	if c := pkts[0].data[0]; c > 3 { // no side-band: the report itself
		if out, ok := rewriteStatus(body, reasons); ok {
			return out
		}
		return body
	}
	// receive-pack's own words for a refusal by the update hook, which
	// GitHub does not send.
	declined := map[string]bool{}
	for ref := range reasons {
		declined["\x02error: hook declined to update "+ref+"\n"] = true
	}
	var report, out []byte
	for _, p := range pkts {
		switch {
		case p.flush, declined[string(p.data)]:
		case len(p.data) > 0 && p.data[0] == 1:
			report = append(report, p.data[1:]...)
		default:
			out = appendPkt(out, p.data)
		}
	}
	report, ok = rewriteStatus(report, reasons)
	if !ok {
		return body
	}
	for len(report) > 0 {
		n := min(sidebandMax, len(report))
		out = appendPkt(out, append([]byte{1}, report[:n]...))
		report = report[n:]
	}
	return append(out, "0000"...)
}
