package githubapp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

const appID = 7

// testKey is an RSA key generated once for the tests.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs1PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
}

// setupApp is setup for an AppTransport on the same fake API.
func setupApp(t *testing.T) (app *AppTransport, mux *http.ServeMux, serverURL string) {
	t.Helper()
	_, mux, serverURL = setup(t)
	app, err := NewAppTransport(appID, pkcs1PEM(), AppOptions{APIURL: serverURL + baseURLPath + "/", RetryBase: time.Millisecond})
	if err != nil {
		t.Fatalf("NewAppTransport: %v", err)
	}
	return app, mux, serverURL
}

// testJWT checks that r carries a JWT signed RS256 by testKey for appID.
func testJWT(t *testing.T, r *http.Request) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	jwt, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		t.Fatalf("Authorization = %q, want a Bearer JWT", auth)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT has %d parts, want 3", len(parts))
	}
	decode := func(i int, v any) {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("JWT part %d: %v", i, err)
			}
		}
	}
	var header struct{ Alg, Typ string }
	var claims struct {
		Iss      string
		Iat, Exp int64
	}
	decode(0, &header)
	decode(1, &claims)
	if got, want := header.Alg, "RS256"; got != want {
		t.Errorf("JWT alg = %q, want %q", got, want)
	}
	if got, want := claims.Iss, fmt.Sprint(appID); got != want {
		t.Errorf("JWT iss = %q, want %q", got, want)
	}
	if now := time.Now().Unix(); claims.Iat > now || claims.Exp <= now || claims.Exp-claims.Iat > 600 {
		t.Errorf("JWT iat %d, exp %d: not valid now (%d) or longer than 10 minutes", claims.Iat, claims.Exp, now)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("JWT signature: %v", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&testKey().PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("JWT signature does not verify with the App's public key: %v", err)
	}
}

func TestRepoToken(t *testing.T) {
	t.Parallel()
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tests := map[string]struct {
		mint     func(context.Context, *AppTransport) (string, time.Time, error)
		perms    *github.InstallationPermissions
		wantBody map[string]any
	}{
		"by name": {
			mint: func(ctx context.Context, a *AppTransport) (string, time.Time, error) {
				return a.RepoToken(ctx, 42, "r")
			},
			wantBody: map[string]any{"repositories": []any{"r"}, "permissions": map[string]any{"contents": "write"}},
		},
		"by full name": {
			mint: func(ctx context.Context, a *AppTransport) (string, time.Time, error) {
				return a.RepoToken(ctx, 42, "o/r")
			},
			wantBody: map[string]any{"repositories": []any{"r"}, "permissions": map[string]any{"contents": "write"}},
		},
		"by id with workflows": {
			mint: func(ctx context.Context, a *AppTransport) (string, time.Time, error) {
				return a.RepoTokenByID(ctx, 42, 99)
			},
			perms: &github.InstallationPermissions{Contents: github.String("write"), Workflows: github.String("write")},
			wantBody: map[string]any{"repository_ids": []any{float64(99)},
				"permissions": map[string]any{"contents": "write", "workflows": "write"}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, mux, serverURL := setupApp(t)
			if tt.perms != nil {
				var err error
				app, err = NewAppTransport(appID, pkcs1PEM(), AppOptions{APIURL: serverURL + baseURLPath, TokenPermissions: tt.perms})
				if err != nil {
					t.Fatal(err)
				}
			}
			mux.HandleFunc("/app/installations/42/access_tokens", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "POST")
				testJWT(t, r)
				if got := testJSONBody(t, r); !reflect.DeepEqual(got, tt.wantBody) {
					t.Errorf("body = %v, want %v", got, tt.wantBody)
				}
				w.WriteHeader(http.StatusCreated)
				fmt.Fprintf(w, `{"token":"ghs_minted","expires_at":%q,"permissions":{"contents":"write"},"repository_selection":"selected"}`,
					expires.Format(time.RFC3339))
			})
			tok, exp, err := tt.mint(context.Background(), app)
			if err != nil {
				t.Fatalf("mint: %v", err)
			}
			if got, want := tok, "ghs_minted"; got != want {
				t.Errorf("token = %q, want %q", got, want)
			}
			if !exp.Equal(expires) {
				t.Errorf("expires = %v, want %v", exp, expires)
			}
		})
	}
}

func TestRepoToken_Errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status int
		class  failure.Class
		want   string
	}{
		"jwt rejected":        {401, failure.Auth, "invalid, expired or revoked"},
		"suspended":           {403, failure.Permission, "suspended"},
		"no installation":     {404, failure.NotFound, "installation 42 does not exist"},
		"repo not in install": {422, failure.Invalid, "not part of the installation"},
		"server error":        {502, failure.Network, "server error (502)"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, mux, _ := setupApp(t)
			var calls atomic.Int32
			mux.HandleFunc("/app/installations/42/access_tokens", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				errorJSON(w, tt.status, "nope")
			})
			_, _, err := app.RepoToken(context.Background(), 42, "r")
			testError(t, err, tt.class, tt.want, "installation 42", `GitHub: "nope"`)
			wantCalls := int32(1)
			if tt.status >= 500 {
				wantCalls = 1 + DefaultRetries
			}
			if got := calls.Load(); got != wantCalls {
				t.Errorf("calls = %d, want %d", got, wantCalls)
			}
		})
	}
}

func TestRepoToken_BadArgs(t *testing.T) {
	t.Parallel()
	app, _, _ := setupApp(t)
	if _, _, err := app.RepoToken(context.Background(), 42, "o/"); err == nil {
		t.Error("RepoToken(o/) succeeded")
	} else {
		testError(t, err, failure.Invalid)
	}
	_, _, err := app.RepoTokenByID(context.Background(), 42, 0)
	testError(t, err, failure.Invalid)
}

func TestNewAppTransport_BadKey(t *testing.T) {
	t.Parallel()
	ecKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not a key " + canary)})
	tests := map[string]struct {
		id  int64
		key []byte
	}{
		"not pem":     {appID, []byte("-----BEGIN nonsense " + canary)},
		"garbage der": {appID, ecKey},
		"no app id":   {0, pkcs1PEM()},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewAppTransport(tt.id, tt.key, AppOptions{})
			testError(t, err, failure.Invalid)
		})
	}
}

func TestNewAppTransport_PKCS8(t *testing.T) {
	t.Parallel()
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		t.Fatal(err)
	}
	app, err := NewAppTransport(appID, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), AppOptions{})
	if err != nil {
		t.Fatalf("NewAppTransport(PKCS#8): %v", err)
	}
	if got, want := app.AppID(), int64(appID); got != want {
		t.Errorf("AppID = %d, want %d", got, want)
	}
	if got, want := app.Apps().BaseURL.String(), DefaultAPIURL; got != want {
		t.Errorf("Apps().BaseURL = %q, want %q", got, want)
	}
}

// An installation's client mints narrowed tokens and makes no API call of
// its own: its own token would reach every repository and permission.
func TestInstallationClient(t *testing.T) {
	t.Parallel()
	app, mux, _ := setupApp(t)
	var minted atomic.Int32
	mux.HandleFunc("/app/installations/1/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		testJWT(t, r)
		minted.Add(1)
		want := map[string]any{"repository_ids": []any{float64(7)}, "permissions": map[string]any{"checks": "write"}}
		if got := testJSONBody(t, r); !reflect.DeepEqual(got, want) {
			t.Errorf("body = %v, want %v", got, want)
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_checks","expires_at":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339))
	})
	mux.HandleFunc("/repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the installation's client called %s %s", r.Method, r.URL.Path)
	})
	c, err := app.InstallationClient(1, Options{GitURL: gitURL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRepo(context.Background(), "o", "r")
	testError(t, err, failure.Internal, "mint a token for the one repository")
	if n := minted.Load(); n != 0 {
		t.Errorf("%d tokens minted by an API call, want none", n)
	}
	if got := c.GitCredentials(); got.Username != GitUsername || got.Token != "" {
		t.Errorf("GitCredentials = %+v, want the user name only", got)
	}
	tok, _, err := c.RepoToken(context.Background(), forge.RepoRef{ID: 7, Owner: "o", Name: "r"}, forge.ScopeChecks)
	if err != nil || tok != "ghs_checks" || minted.Load() != 1 {
		t.Errorf("RepoToken = %q, %v (%d minted)", tok, err, minted.Load())
	}
}

func TestRepoToken_Refused(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status int
		class  failure.Class
		want   string
	}{
		"jwt rejected":    {401, failure.Auth, "check the App id, the private key"},
		"uninstalled":     {404, failure.NotFound, "installation 3 does not exist"},
		"github is down":  {503, failure.Network, "server error (503)"},
		"suspended (403)": {403, failure.Permission, "suspended"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, mux, _ := setupApp(t)
			mux.HandleFunc("/app/installations/3/access_tokens", func(w http.ResponseWriter, r *http.Request) {
				errorJSON(w, tt.status, "nope")
			})
			c, err := app.InstallationClient(3, Options{RetryBase: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.RepoToken(context.Background(), forge.RepoRef{Owner: "o", Name: "r"}, forge.ScopeReadFile)
			testError(t, err, tt.class, tt.want)
		})
	}
}
