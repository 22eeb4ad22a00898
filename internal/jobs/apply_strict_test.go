package jobs

import (
	"context"
	"slices"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/repoconfig"
)

// TestApplyConfigKeepsMirrorOnDotDotGit: `target: acme/..git` passed the
// file's check (the segment was checked before ".git" was stripped), the
// mirror became acme/. and the working acme/widget was deleted. An invalid
// target must leave the mirror as it was.
func TestApplyConfigKeepsMirrorOnDotDotGit(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"acme/..git", "acme/...git"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			b := setupRunner(t)
			ctx := context.Background()
			b.push(t, "main", map[string]string{"README": "hello"})
			apply := func() error { return b.runner.ApplyConfig(ctx, installationID, b.repoID, ghOwner, ghName) }
			b.setFile(t, repoconfig.Path, "target: acme/widget\n")
			if err := apply(); err != nil {
				t.Fatalf("ApplyConfig: %v", err)
			}
			want := []string{"acme/widget file push"}
			if got := b.targets(t); !slices.Equal(got, want) {
				t.Fatalf("mirrors = %q, want %q", got, want)
			}
			b.setFile(t, repoconfig.Path, "target: "+target+"\n")
			if err := apply(); failure.ClassOf(err) != failure.Invalid {
				t.Errorf("ApplyConfig(target: %s) = %v, want an invalid-settings error", target, err)
			}
			if got := b.targets(t); !slices.Equal(got, want) {
				t.Errorf("after target: %s, mirrors = %q, want %q (the working mirror kept)", target, got, want)
			}
		})
	}
}
