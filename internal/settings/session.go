package settings

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/secret"
)

const (
	sessionCookie   = "gm_session"
	sessionLifetime = 8 * time.Hour
	// stateLifetime bounds the time between leaving for GitHub and coming
	// back (OAuth sign-in or App registration).
	stateLifetime = 10 * time.Minute
	maxStates     = 10000
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
	verifier string // PKCE code verifier (sign-in)
	browser  string // value of the browser-binding cookie
	expires  time.Time
}

// states holds single-use state values in memory: a state is good for one
// return from GitHub, within stateLifetime, in the browser that left.
type states struct {
	mu sync.Mutex
	m  map[string]pending
}

var errBadState = errors.New("the sign-in link is stale or was already used: start again")

// add records p under a fresh state value and returns it.
func (s *states) add(p pending, now time.Time) string {
	st := randomToken(24)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]pending{}
	}
	if len(s.m) >= maxStates {
		for k, v := range s.m {
			if now.After(v.expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= maxStates {
			for k := range s.m { // drop one at random: bounded memory
				delete(s.m, k)
				break
			}
		}
	}
	s.m[st] = p
	return st
}

// take returns and forgets the state's record: a state works once.
func (s *states) take(state, browser string, now time.Time) (pending, error) {
	s.mu.Lock()
	p, ok := s.m[state]
	delete(s.m, state)
	s.mu.Unlock()
	if !ok || state == "" || now.After(p.expires) || browser == "" || p.browser != browser {
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
