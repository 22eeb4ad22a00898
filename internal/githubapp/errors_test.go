package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	tests := map[string]struct {
		handler http.HandlerFunc
		class   failure.Class
		want    []string
	}{
		"401 bad credentials": {
			handler: func(w http.ResponseWriter, r *http.Request) { errorJSON(w, 401, "Bad credentials") },
			class:   failure.Auth, want: []string{"invalid, expired or revoked", `GitHub: "Bad credentials"`},
		},
		"403 permission": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				errorJSON(w, 403, "Resource not accessible by integration")
			},
			class: failure.Permission, want: []string{"not allowed (403)", "Resource not accessible by integration"},
		},
		"403 primary rate limit": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-RateLimit-Limit", "5000")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", reset)
				errorJSON(w, 403, "API rate limit exceeded for installation ID 1.")
			},
			class: failure.RateLimited, want: []string{"rate limit is used up until", "API rate limit exceeded"},
		},
		"403 secondary rate limit": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(403)
				fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
			},
			class: failure.RateLimited, want: []string{"secondary rate limit", "30s"},
		},
		"429": {
			handler: func(w http.ResponseWriter, r *http.Request) { errorJSON(w, 429, "Too Many Requests") },
			class:   failure.RateLimited, want: []string{"429"},
		},
		"404": {
			handler: func(w http.ResponseWriter, r *http.Request) { errorJSON(w, 404, "Not Found") },
			class:   failure.NotFound, want: []string{"deleted or renamed, or the token cannot see it"},
		},
		"409": {
			handler: func(w http.ResponseWriter, r *http.Request) { errorJSON(w, 409, "Repository is being moved") },
			class:   failure.Rejected, want: []string{"Repository is being moved"},
		},
		"422": {
			handler: func(w http.ResponseWriter, r *http.Request) { errorJSON(w, 422, "Validation Failed") },
			class:   failure.Invalid, want: []string{"Validation Failed"},
		},
		"500": {
			handler: func(w http.ResponseWriter, r *http.Request) { errorJSON(w, 500, "Server Error") },
			class:   failure.Network, want: []string{"server error (500)"},
		},
		"garbage": {
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>") },
			class:   failure.Internal, want: []string{"unexpected answer"},
		},
		"echoed token": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				errorJSON(w, 401, "Bad credentials: "+r.Header.Get("Authorization"))
			},
			class: failure.Auth, want: []string{"[REDACTED]"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			mux.HandleFunc("/repos/o/r", tt.handler)
			_, err := client.GetRepo(context.Background(), "o", "r")
			testError(t, err, tt.class, append(tt.want, "get GitHub repository o/r")...)
		})
	}
}

func TestErrors_KeepGitHubTypes(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		errorJSON(w, 401, "Bad credentials for "+canary)
	})
	_, err := client.GetRepo(context.Background(), "o", "r")
	testError(t, err, failure.Auth)
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("errors.As(*github.ErrorResponse) = false for %v", err)
	}
	if got, want := er.Response.StatusCode, 401; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
}

func TestErrors_Transport(t *testing.T) {
	t.Parallel()
	server := httptest.NewServer(http.NotFoundHandler())
	apiURL := server.URL + "/api/"
	server.Close() // nothing listens any more
	client, err := NewWithToken(canary, Options{APIURL: apiURL, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetRepo(context.Background(), "o", "r")
	testError(t, err, failure.Network, "cannot reach GitHub at 127.0.0.1")
	if !failure.IsTransient(err) {
		t.Errorf("IsTransient = false for a network error")
	}
}

func TestErrors_Timeout(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := client.GetRepo(ctx, "o", "r")
	testError(t, err, failure.Timeout, "did not answer in time")
}

func TestErrors_Cancelled(t *testing.T) {
	t.Parallel()
	client, _, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := client.GetRepo(ctx, "o", "r")
	testError(t, err, failure.Timeout, "cancelled")
	if failure.IsTransient(err) {
		t.Errorf("IsTransient = true for a cancelled request")
	}
}

func TestRetry_502ThenSuccess(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			errorJSON(w, http.StatusBadGateway, "Bad Gateway")
			return
		}
		fmt.Fprint(w, repoJSON("o", "r", ""))
	})
	repo, err := client.GetRepo(context.Background(), "o", "r")
	if err != nil {
		t.Fatalf("GetRepo: %v", err)
	}
	if got, want := repo.FullName(), "o/r"; got != want {
		t.Errorf("FullName = %q, want %q", got, want)
	}
	if got, want := calls.Load(), int32(3); got != want {
		t.Errorf("calls = %d, want %d", got, want)
	}
}

func TestRetry_NotOnClientErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{401, 403, 404, 422} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			client, mux, _ := setup(t)
			var calls atomic.Int32
			mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				errorJSON(w, status, "no")
			})
			_, _ = client.GetRepo(context.Background(), "o", "r")
			if got, want := calls.Load(), int32(1); got != want {
				t.Errorf("calls = %d, want %d", got, want)
			}
		})
	}
}

func TestRetry_Disabled(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		errorJSON(w, http.StatusBadGateway, "Bad Gateway")
	}))
	t.Cleanup(server.Close)
	client, err := NewWithToken(canary, Options{APIURL: server.URL + "/x/", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetRepo(context.Background(), "o", "r")
	testError(t, err, failure.Network)
	if got, want := calls.Load(), int32(1); got != want {
		t.Errorf("calls = %d, want %d", got, want)
	}
}

func TestRetry_StopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	client.retry.base = time.Hour // the wait would outlast the context
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		errorJSON(w, http.StatusBadGateway, "Bad Gateway")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.GetRepo(ctx, "o", "r")
	testError(t, err, failure.Timeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("GetRepo took %v, want it to stop with the context", d)
	}
}

func TestToken_NotSentToOtherHosts(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), canary) {
			leaked.Store(true)
		}
		fmt.Fprint(w, repoJSON("o", "r", ""))
	}))
	t.Cleanup(other.Close)

	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/repos/o/r", http.StatusMovedPermanently)
	})
	_, err := client.GetRepo(context.Background(), "o", "r")
	testError(t, err, failure.Rejected, "redirected to another host")
	if leaked.Load() {
		t.Error("the token was sent to another host")
	}
}

func TestRedirect_SameHostFollowed(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, baseURLPath+"/repositories/1", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/repositories/1", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "Bearer "+canary)
		fmt.Fprint(w, repoJSON("o", "new", ""))
	})
	repo, err := client.GetRepo(context.Background(), "o", "old")
	if err != nil {
		t.Fatalf("GetRepo: %v", err)
	}
	if got, want := repo.Name, "new"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts    Options
		wantAPI string
		wantGit string
		class   failure.Class
	}{
		"defaults":     {Options{}, "https://api.github.com/", "https://github.com/o/r.git", ""},
		"GHES api/v3":  {Options{APIURL: "https://ghe.example/api/v3", GitURL: "https://ghe.example/"}, "https://ghe.example/api/v3/", "https://ghe.example/o/r.git", ""},
		"GHES host":    {Options{APIURL: "https://ghe.example"}, "https://ghe.example/api/v3/", "https://github.com/o/r.git", ""},
		"custom path":  {Options{APIURL: "http://127.0.0.1:1/api-v3"}, "http://127.0.0.1:1/api-v3/", "https://github.com/o/r.git", ""},
		"relative":     {Options{APIURL: "api.github.com"}, "", "", failure.Invalid},
		"ftp":          {Options{GitURL: "ftp://x"}, "", "", failure.Invalid},
		"userinfo":     {Options{APIURL: "https://x:" + canary + "@ghe.example/api/v3/"}, "", "", failure.Invalid},
		"git userinfo": {Options{GitURL: "https://" + canary + "@ghe.example/"}, "", "", failure.Invalid},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, err := NewWithToken(canary, tt.opts)
			if tt.class != "" {
				testError(t, err, tt.class)
				return
			}
			if err != nil {
				t.Fatalf("NewWithToken: %v", err)
			}
			if got := client.API().BaseURL.String(); got != tt.wantAPI {
				t.Errorf("BaseURL = %q, want %q", got, tt.wantAPI)
			}
			if got := client.GitURL("o", "r"); got != tt.wantGit {
				t.Errorf("GitURL = %q, want %q", got, tt.wantGit)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	client, _, _ := setup(t)
	if err := client.Classify(nil, "x"); err != nil {
		t.Errorf("Classify(nil) = %v, want nil", err)
	}
	err := client.Classify(errors.New("boom "+canary), "create a check run")
	testError(t, err, failure.Internal, "create a check run", "[REDACTED]")
}
