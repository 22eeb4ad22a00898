package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestE2EProgressWhileSlow: a sync the forge holds up mid-push shows its
// progress (objects, bytes received and sent, rate, elapsed) in the
// App's mirror listing, read from the store as any replica would; once the
// push goes through, the progress is gone.
func TestE2EProgressWhileSlow(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	m := e.pushMirror("slow")

	held, release := make(chan struct{}), make(chan struct{})
	e.f.OnRequest(func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/"+e2eGiteeOrg+"/slow") && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			select {
			case <-held:
			default:
				close(held)
			}
			<-release
		}
	})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		files[n+".txt"] = strings.Repeat(n+" some text to move\n", 5000)
	}
	e.push("slow", files)
	<-held

	type listed struct {
		ID       int64 `json:"id"`
		Progress *struct {
			Phase          string  `json:"phase"`
			Objects        int64   `json:"objects"`
			ReceivedBytes  int64   `json:"received_bytes"`
			SentBytes      int64   `json:"sent_bytes"`
			BytesPerSecond float64 `json:"bytes_per_second"`
			ElapsedSeconds float64 `json:"elapsed_seconds"`
			Text           string  `json:"text"`
		} `json:"progress"`
	}
	progress := func() *listed {
		code, body := e.admin(http.MethodGet, "/admin/mirrors", nil)
		var ms []listed
		if code != http.StatusOK || json.Unmarshal([]byte(body), &ms) != nil {
			t.Fatalf("GET /admin/mirrors: %d %s", code, body)
		}
		for i := range ms {
			if ms[i].ID == m.ID {
				return &ms[i]
			}
		}
		t.Fatalf("mirror %d not listed: %s", m.ID, body)
		return nil
	}
	e.waitFor("the held sync's progress is listed", func() bool {
		p := progress().Progress
		return p != nil && p.Phase == "sending" && p.Objects > 0 && p.ReceivedBytes > 0 && p.SentBytes > 0
	})
	if p := progress().Progress; p.ElapsedSeconds <= 0 || !strings.Contains(p.Text, "sent") || !strings.Contains(p.Text, "/s") {
		t.Errorf("progress = %+v, want elapsed time and a rate", p)
	}
	released = true
	close(release)
	e.waitFor("the push is on Gitee", func() bool { return e.sameRefs(e2eOwner, "slow", e2eGiteeOrg, "slow") })
	e.idle()
	if p := progress().Progress; p != nil {
		t.Errorf("progress after the sync = %+v, want none", p)
	}
	e.checkCanaries()
}
