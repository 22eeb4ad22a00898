package settings

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

const (
	sessionCookie   = "gm_session"
	sessionLifetime = 8 * time.Hour
	// stateLifetime bounds the time between leaving for GitHub and coming
	// back (OAuth sign-in or App registration).
	stateLifetime = 10 * time.Minute
)

// session is who is signed in. It travels encrypted and authenticated in a
// cookie; the GitHub user token in it never reaches the browser in clear.
type session struct {
	Login   string    `json:"login"`
	UserID  int64     `json:"uid"`
	Token   string    `json:"tok"`
	Expires time.Time `json:"exp"`
}

// cookieBox seals sessions into cookie values.
type cookieBox struct {
	box    *secret.Box
	secure bool
}

func newCookieBox(key []byte, secure bool) (*cookieBox, error) {
	if key == nil {
		key = make([]byte, secret.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	} else {
		// A key of its own, derived from the one given, so the cookie key
		// is not the key that encrypts stored tokens.
		sum := sha256.Sum256(append([]byte("gitee-mirror session cookie\x00"), key...))
		key = sum[:]
	}
	b, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}
	return &cookieBox{box: b, secure: secure}, nil
}

var cookieAD = []byte(sessionCookie)

// read returns the request's session, nil when none is valid.
func (c *cookieBox) read(r *http.Request, now time.Time) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	plain, err := c.box.Open(raw, cookieAD)
	if err != nil {
		return nil
	}
	var s session
	if json.Unmarshal(plain, &s) != nil || s.Login == "" || s.Token == "" || now.After(s.Expires) {
		return nil
	}
	return &s
}

// write sets the session cookie.
func (c *cookieBox) write(w http.ResponseWriter, s *session) error {
	plain, err := json.Marshal(s)
	if err != nil {
		return err
	}
	sealed, err := c.box.Seal(plain, cookieAD)
	if err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(sessionCookie, base64.RawURLEncoding.EncodeToString(sealed), int(sessionLifetime/time.Second)))
	return nil
}

// clear removes the session cookie.
func (c *cookieBox) clear(w http.ResponseWriter) {
	http.SetCookie(w, c.cookie(sessionCookie, "", -1))
}

// cookie is a cookie with the attributes every cookie of the pages gets:
// HTTP-only, SameSite=Lax (it survives the top-level redirect back from
// GitHub), Secure when the public URL is https.
func (c *cookieBox) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/settings", MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode}
}

// pending is what a state value stands for until it comes back.
type pending struct {
	Verifier string    `json:"v,omitempty"` // PKCE code verifier (sign-in)
	Browser  string    `json:"b"`           // value of the browser-binding cookie
	Expires  time.Time `json:"e"`
}

// states keeps single-use state values in the store, sealed with the
// cookie key, so that whichever replica GitHub sends the browser back to
// takes the state: a state is good for one return from GitHub, within
// stateLifetime, in the browser that left.
type states struct {
	st  store.States
	box *secret.Box
}

var (
	errBadState = errors.New("the sign-in link is stale or was already used: start again")
	stateAD     = []byte("gitee-mirror one-time state")
)

// add records p under a fresh state value and returns it.
func (s *states) add(ctx context.Context, p pending) (string, error) {
	st := randomToken(24)
	plain, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	sealed, err := s.box.Seal(plain, stateAD)
	if err != nil {
		return "", err
	}
	// The store forgets it by the real clock; p.Expires (the pages'
	// clock) decides whether it is still good.
	if err := s.st.PutState(ctx, st, sealed, time.Now().Add(stateLifetime)); err != nil {
		return "", fmt.Errorf("error remembering the sign-in state: %w", err)
	}
	return st, nil
}

// take returns and forgets the state's record: a state works once.
func (s *states) take(ctx context.Context, state, browser string, now time.Time) (pending, error) {
	if state == "" || browser == "" {
		return pending{}, errBadState
	}
	sealed, err := s.st.TakeState(ctx, state)
	if errors.Is(err, store.ErrNotFound) {
		return pending{}, errBadState
	}
	if err != nil {
		return pending{}, err
	}
	var p pending
	plain, err := s.box.Open(sealed, stateAD)
	if err != nil || json.Unmarshal(plain, &p) != nil || now.After(p.Expires) || p.Browser != browser {
		return pending{}, errBadState
	}
	return p, nil
}

// randomToken is n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceChallenge is the S256 code challenge of verifier.
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
