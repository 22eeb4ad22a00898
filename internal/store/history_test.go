package store

import (
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/release"
)

func TestSyncRunNoOp(t *testing.T) {
	t.Parallel()
	unchanged := []mirror.RefResult{{Ref: "refs/heads/main", Outcome: mirror.Unchanged}}
	tests := map[string]struct {
		run  SyncRun
		want bool
	}{
		"quiet reconcile":      {SyncRun{Trigger: TriggerReconcile, Outcome: OutcomeOK, Refs: unchanged}, true},
		"releases unchanged":   {SyncRun{Trigger: TriggerReconcile, Outcome: OutcomeOK, Refs: unchanged, Releases: &release.Result{Releases: []release.ReleaseResult{{Tag: "v1", Outcome: release.Unchanged}}}}, true},
		"a release copied":     {SyncRun{Trigger: TriggerReconcile, Outcome: OutcomeOK, Refs: unchanged, Releases: &release.Result{Releases: []release.ReleaseResult{{Tag: "v1", Outcome: release.Created}}}}, false},
		"a ref written":        {SyncRun{Trigger: TriggerReconcile, Outcome: OutcomeOK, Refs: []mirror.RefResult{{Outcome: mirror.Updated}}}, false},
		"a push":               {SyncRun{Trigger: TriggerPush, Outcome: OutcomeOK, Refs: unchanged}, false},
		"bytes sent":           {SyncRun{Trigger: TriggerReconcile, Outcome: OutcomeOK, Bytes: 1}, false},
		"a diverged reconcile": {SyncRun{Trigger: TriggerReconcile, Outcome: OutcomeDiverged}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.run.NoOp(); got != tc.want {
				t.Errorf("NoOp = %v, want %v", got, tc.want)
			}
		})
	}
}
