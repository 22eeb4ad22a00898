package gitee

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		handler   http.HandlerFunc
		wantClass failure.Class
		wantText  []string
	}{
		"401": {
			handler:   reply(401, msg("401 Unauthorized: Access token is expired")),
			wantClass: failure.Auth,
			wantText:  []string{"GET /repos/alice/proj", "invalid or expired", "/profile/personal_access_tokens", "Access token is expired"},
		},
		"403": {
			handler:   reply(403, msg("没有权限")),
			wantClass: failure.Permission,
			wantText:  []string{"`projects`", "repository alice/proj", "没有权限"},
		},
		"403 rate limit": {
			handler:   reply(403, msg("API Rate Limit Exceeded")),
			wantClass: failure.RateLimited,
			wantText:  []string{"rate limit"},
		},
		"404": {
			handler:   reply(404, msg("Not Found Project")),
			wantClass: failure.NotFound,
			wantText:  []string{"repository alice/proj was not found", "deleted or renamed", "Not Found Project"},
		},
		"400": {
			handler:   reply(400, map[string]any{"message": map[string]any{"name": []string{"is invalid"}}}),
			wantClass: failure.Invalid,
			wantText:  []string{"HTTP 400", "is invalid"},
		},
		"422 messages list": {
			handler:   reply(422, map[string]any{"messages": []string{"仓库名称已存在"}}),
			wantClass: failure.Invalid,
			wantText:  []string{"仓库名称已存在"},
		},
		"429": {
			handler:   reply(429, msg("Too Many Requests")),
			wantClass: failure.RateLimited,
		},
		"500 html page": {
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(500)
				_, _ = w.Write([]byte("<html><body>oops</body></html>"))
			},
			wantClass: failure.Network,
			wantText:  []string{"HTTP 500"},
		},
		"418": {
			handler:   func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "short and stout", http.StatusTeapot) },
			wantClass: failure.Internal,
			wantText:  []string{"HTTP 418", "short and stout"},
		},
		"redirect carrying the token": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://elsewhere.example/x?"+r.URL.RawQuery, http.StatusFound)
			},
			wantClass: failure.Invalid,
			wantText:  []string{"redirect", "https://elsewhere.example/x"},
		},
		"gitee echoes the token": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				reply(401, msg("token "+r.URL.Query().Get("access_token")+" and "+url.QueryEscape(canary)+" is bad"))(w, r)
			},
			wantClass: failure.Auth,
			wantText:  []string{"[redacted]"},
		},
		"not json": {
			handler:   func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>login</html>")) },
			wantClass: failure.Internal,
			wantText:  []string{"expected JSON"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("GET /repos/alice/proj", tc.handler)
			_, err := f.client(t).GetRepo(context.Background(), "alice", "proj")
			checkNoSecret(t, err)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("class = %q, want %q (err: %v)", got, want, err)
			}
			var fe *failure.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *failure.Error", err)
			}
			for _, s := range tc.wantText {
				if !contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if contains(err.Error(), "access_token=") {
				t.Errorf("error shows the query: %v", err)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := reply(200, repoJSON("alice", "proj"))
	tests := map[string]struct {
		handler   http.HandlerFunc
		wantHits  int
		wantClass failure.Class
	}{
		"503 then success":          {handler: sequence(reply(503, nil), ok), wantHits: 2},
		"502, 500 then success":     {handler: sequence(reply(502, nil), reply(500, nil), ok), wantHits: 3},
		"429 with Retry-After 0":    {handler: sequence(withRetryAfter("0", reply(429, nil)), ok), wantHits: 2},
		"Retry-After beyond cap":    {handler: sequence(withRetryAfter("3600", reply(429, nil)), ok), wantHits: 1, wantClass: failure.RateLimited},
		"always 503 gives up":       {handler: reply(503, nil), wantHits: 3, wantClass: failure.Network},
		"401 is not retried":        {handler: reply(401, msg("bad")), wantHits: 1, wantClass: failure.Auth},
		"404 is not retried":        {handler: reply(404, msg("Not Found")), wantHits: 1, wantClass: failure.NotFound},
		"422 is not retried":        {handler: reply(422, msg("bad")), wantHits: 1, wantClass: failure.Invalid},
		"dropped connection, retry": {handler: sequence(hangUp, ok), wantHits: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("GET /repos/alice/proj", tc.handler)
			_, err := f.client(t).GetRepo(context.Background(), "alice", "proj")
			checkNoSecret(t, err)
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Errorf("class = %q, want %q (err: %v)", got, want, err)
			}
			if got, want := f.hitCount("GET /repos/alice/proj"), tc.wantHits; got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
		})
	}
}

func withRetryAfter(v string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", v)
		h(w, r)
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func TestPatchIsRetried(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("DELETE /repos/alice/proj/hooks/3", sequence(reply(503, nil), reply(204, nil)))
	if err := f.client(t).DeleteHook(context.Background(), "alice", "proj", 3); err != nil {
		t.Fatalf("DeleteHook: %v", err)
	}
	if got, want := f.hitCount("DELETE /repos/alice/proj/hooks/3"), 2; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	c, err := New(Config{BaseURL: deadURL + apiPrefix, Token: canary, Retry: RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRepo(context.Background(), "alice", "proj")
	checkNoSecret(t, err)
	if got, want := failure.ClassOf(err), failure.Network; got != want {
		t.Errorf("class = %q, want %q (err: %v)", got, want, err)
	}
	if !contains(err.Error(), "GET /repos/alice/proj") {
		t.Errorf("error does not name the request: %v", err)
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	tests := map[string]struct {
		ctx    func() (context.Context, context.CancelFunc)
		client func(*Config)
	}{
		"context deadline": {
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
		},
		"http client timeout": {
			ctx: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			client: func(cfg *Config) {
				cfg.HTTPClient = &http.Client{Timeout: 30 * time.Millisecond}
				cfg.Retry.MaxAttempts = 1
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("GET /repos/alice/proj", slow)
			var mods []func(*Config)
			if tc.client != nil {
				mods = append(mods, tc.client)
			}
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := f.client(t, mods...).GetRepo(ctx, "alice", "proj")
			checkNoSecret(t, err)
			if got, want := failure.ClassOf(err), failure.Timeout; got != want {
				t.Errorf("class = %q, want %q (err: %v)", got, want, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s: the deadline was not honoured", d)
			}
		})
	}
}

func TestCancelledIsNotTransient(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.handle("GET /repos/alice/proj", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	_, err := f.client(t).GetRepo(ctx, "alice", "proj")
	if failure.IsTransient(err) {
		t.Errorf("a cancelled request counts as transient: %v", err)
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Errorf("error %T is not a *failure.Error", err)
	}
	if got, want := f.hitCount("GET /repos/alice/proj"), 1; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: "x", Retry: RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		attempt  int
		min, max time.Duration
	}{
		"first":  {attempt: 1, min: 50 * time.Millisecond, max: 100 * time.Millisecond},
		"second": {attempt: 2, min: 100 * time.Millisecond, max: 200 * time.Millisecond},
		"capped": {attempt: 30, min: 500 * time.Millisecond, max: time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for range 50 {
				if d := c.backoff(tc.attempt); d < tc.min || d > tc.max {
					t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tc.attempt, d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]struct {
		value string
		want  time.Duration
	}{
		"absent":   {value: "", want: 0},
		"seconds":  {value: "7", want: 7 * time.Second},
		"negative": {value: "-3", want: 0},
		"date":     {value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		"past":     {value: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		"garbage":  {value: "soon", want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			if got, want := retryAfter(h, now), tc.want; got != want {
				t.Errorf("retryAfter(%q) = %s, want %s", tc.value, got, want)
			}
		})
	}
}

func TestGiteeMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("仓", 200) // 600 bytes
	tests := map[string]struct {
		body, want string
	}{
		"message":     {body: `{"message":"Not Found Project"}`, want: "Not Found Project"},
		"messages":    {body: `{"messages":["a","b"]}`, want: "a; b"},
		"oauth error": {body: `{"error":"invalid_token","error_description":"expired"}`, want: "invalid_token; expired"},
		"object":      {body: `{"message":{"name":["taken"]}}`, want: `{"name":["taken"]}`},
		"plain text":  {body: "  too\n many  ", want: "too many"},
		"html":        {body: "<html>502</html>", want: ""},
		"empty":       {body: "", want: ""},
		"long utf-8":  {body: `{"message":"` + long + `"}`, want: strings.Repeat("仓", 100) + "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, want := giteeMessage([]byte(tc.body)), tc.want; got != want {
				t.Errorf("giteeMessage(%q) = %q, want %q", tc.body, got, want)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: canary})
	if err != nil {
		t.Fatal(err)
	}
	plain := errors.New("dial tcp: refused")
	if got := c.scrub(plain); got != plain {
		t.Errorf("scrub changed an error without the token: %v", got)
	}
	leaky := errors.New("oops " + url.QueryEscape(canary))
	checkNoSecret(t, c.scrub(leaky))
	if got := c.scrub(nil); got != nil {
		t.Errorf("scrub(nil) = %v", got)
	}
}
