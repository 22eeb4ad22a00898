package webhook_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func releasePayload(action string, draft bool) map[string]any {
	p := repositoryPayload(action, "octo-org", "repo")
	p["release"] = map[string]any{"id": 5, "tag_name": "v1.0.0", "draft": draft, "name": "One"}
	return p
}

// TestRelease: a published or edited release asks for a sync of the
// repository's mirrors that mirror releases from GitHub (push and two-way),
// not of the others; drafts, deletions and unpublishing ask for nothing.
func TestRelease(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		action string
		draft  bool
		want   bool
	}{
		"published":   {"published", false, true},
		"edited":      {"edited", false, true},
		"prereleased": {"prereleased", false, true},
		"released":    {"released", false, true},
		"draft made":  {"created", true, false},
		"draft saved": {"edited", true, false},
		"deleted":     {"deleted", false, false},
		"unpublished": {"unpublished", false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			mk := func(target string, d store.Direction, releases bool) *store.Mirror {
				m := b.mirror(t, testRepoID, target, d, "")
				if releases {
					m.Releases = true
					if err := b.store.UpdateMirrorSettings(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
				return m
			}
			push := mk("push", store.AToB, true)
			both := mk("both", store.Both, true)
			mk("pull", store.BToA, true)
			mk("plain", store.AToB, false)
			code := http.StatusAccepted // an action this App ignores
			if tc.want {
				code = http.StatusOK
			}
			wantCode(t, b.github(t, "release", "rel-"+name, releasePayload(tc.action, tc.draft)), code)
			var got []int64
			for _, s := range b.queue.Syncs() {
				if s.Trigger != store.TriggerRelease {
					t.Errorf("sync %+v: trigger %q, want %q", s, s.Trigger, store.TriggerRelease)
				}
				got = append(got, s.MirrorID)
			}
			slices.Sort(got)
			var want []int64
			if tc.want {
				want = []int64{push.ID, both.ID}
			}
			if !slices.Equal(got, want) {
				t.Errorf("syncs requested for mirrors %v, want %v", got, want)
			}
		})
	}
}
