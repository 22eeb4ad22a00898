package forgetest_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// TestPushOverlaps: a push held mid-body by OnPushBody while a second push
// to the same repository is served is an overlap; pushes to another
// repository, or one after the other, are not.
func TestPushOverlaps(t *testing.T) {
	t.Parallel()
	f := forgetest.New(t)
	f.AddUser("dev", "dev-token")
	f.Grant("dev", "o", "*", forgetest.Write)
	f.CreateRepo("o", "a")
	f.CreateRepo("o", "b")
	w := forgetest.NewWork(t)
	w.Commit("one", map[string]string{"x": strings.Repeat("x", 1000)})
	push := func(repo, ref string) error {
		return w.Push(f.GitURL("o", repo), "dev", "dev-token", "HEAD:"+ref)
	}
	if err := push("a", "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if err := push("b", "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if got := f.PushOverlaps(); len(got) != 0 {
		t.Fatalf("overlaps after pushes one at a time: %v", got)
	}

	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.OnPushBody(func(r *http.Request, read int64) error {
		if strings.HasPrefix(r.URL.Path, "/o/a") {
			once.Do(func() { close(held); <-release })
		}
		return nil
	})
	w.Commit("two", map[string]string{"y": "y"})
	first := make(chan error, 1)
	go func() { first <- push("a", "refs/heads/one") }()
	<-held
	if err := push("b", "refs/heads/two"); err != nil { // another repository
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() { second <- push("a", "refs/heads/two") }()
	// The second push to o/a is counted before its body is read.
	f.WaitPushes("o", "a", 2)
	close(release)
	if err := <-first; err != nil {
		t.Error(err)
	}
	if err := <-second; err != nil {
		t.Error(err)
	}
	if got := f.PushOverlaps(); len(got) != 1 || got[0] != "o/a" {
		t.Errorf("overlaps = %v, want one on o/a", got)
	}

	// A body cut mid-pack: the push is refused, nothing lands.
	f.OnPushBody(func(*http.Request, int64) error { return errors.New("cut") })
	w.Commit("three", map[string]string{"z": strings.Repeat("z", 5000)})
	if err := push("a", "refs/heads/three"); err == nil {
		t.Errorf("a push cut mid-body succeeded")
	}
	if _, ok := f.Refs("o", "a")["refs/heads/three"]; ok {
		t.Errorf("a push cut mid-body landed")
	}
}
