package actioncmd

import (
	"cmp"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode"
)

// Token inputs. They are read from the environment only, never from flags:
// flags show in process lists and shell history.
const (
	inSourceToken      = "source-token"
	inDestinationToken = "destination-token"
	inGitHubToken      = "github-token"
)

// secretInputs lists the token inputs in the order they are read.
var secretInputs = []string{inSourceToken, inDestinationToken, inGitHubToken}

// secrets are the tokens of one run.
type secrets struct {
	source      string // source-token
	destination string // destination-token
	github      string // github-token: fallback for a side on the GitHub server
}

// secretEnv returns the plain environment variable that also carries a token
// input: "source-token" → "SOURCE_TOKEN".
func secretEnv(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// readSecrets reads every token from the environment: first the variable
// GitHub sets for a docker action's input (INPUT_SOURCE-TOKEN), then the plain
// one (SOURCE_TOKEN).
func readSecrets(getenv func(string) string) secrets {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(name))); v != "" {
			return v
		}
		return strings.TrimSpace(getenv(secretEnv(name)))
	}
	return secrets{
		source:      get(inSourceToken),
		destination: get(inDestinationToken),
		github:      get(inGitHubToken),
	}
}

// all returns the non-empty tokens.
func (s secrets) all() []string {
	var out []string
	for _, v := range []string{s.source, s.destination, s.github} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// validate rejects tokens that cannot be a basic-auth password. The message
// names the input, never the value.
func (s secrets) validate() error {
	for i, v := range []string{s.source, s.destination, s.github} {
		name := secretInputs[i]
		if strings.IndexFunc(v, unicode.IsControl) >= 0 || strings.ContainsRune(v, ' ') {
			return inputErrorf(name, "the token contains spaces or control characters; check the secret")
		}
	}
	return nil
}

// maskPieces returns what to register as masks for a token: the token and,
// for a token spanning lines (rejected later, but printed nowhere meanwhile),
// each of its lines.
func maskPieces(tokens []string) []string {
	var out []string
	for _, t := range tokens {
		if t == "" {
			continue
		}
		out = append(out, t)
		if strings.ContainsAny(t, "\r\n") {
			for _, line := range strings.FieldsFunc(t, func(r rune) bool { return r == '\r' || r == '\n' }) {
				if line = strings.TrimSpace(line); line != "" {
					out = append(out, line)
				}
			}
		}
	}
	return out
}

// redactor replaces every token with "***". It backs up the masks: masks only
// work inside Actions, and only for text the runner prints; files we write
// (outputs, summary, report) are not masked by the runner.
type redactor struct {
	r *strings.Replacer
}

// newRedactor returns a redactor for tokens; with none it changes nothing.
func newRedactor(tokens []string) *redactor {
	pieces := maskPieces(tokens)
	// Longest first, so a token containing another is replaced whole.
	slices.SortFunc(pieces, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	var pairs []string
	for _, p := range slices.Compact(pieces) {
		pairs = append(pairs, p, "***")
	}
	if len(pairs) == 0 {
		return &redactor{}
	}
	return &redactor{r: strings.NewReplacer(pairs...)}
}

// String returns s with every token replaced.
func (r *redactor) String(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// Writer returns a writer that redacts each Write before passing it to w.
// Every line we print is one Write, so a token is never split between two.
func (r *redactor) Writer(w io.Writer) io.Writer {
	return redactWriter{r: r, w: w}
}

type redactWriter struct {
	r *redactor
	w io.Writer
}

func (rw redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// errTokenFlag is returned for a token given as a flag.
var errTokenFlag = errors.New("tokens are not accepted as flags (flags show in process lists)")
