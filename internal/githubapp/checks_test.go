package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

func TestCreateCheckRun(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/r/check-runs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		body := testJSONBody(t, r)
		for k, want := range map[string]any{
			"name": forge.CheckRunName, "head_sha": "0123456789abcdef", "status": "completed",
			"conclusion": "neutral", "external_id": "42",
		} {
			if got := body[k]; got != want {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
		if body["completed_at"] == nil {
			t.Error("completed_at missing with a conclusion")
		}
		out, _ := body["output"].(map[string]any)
		if out["title"] != "1 ref diverged" || out["summary"] != "| ref |" {
			t.Errorf("output = %v", out)
		}
		want := []any{
			map[string]any{"path": "f.yml", "start_line": float64(2), "end_line": float64(2), "annotation_level": "failure", "title": "direction", "message": "want push"},
			map[string]any{"path": "f.yml", "start_line": float64(1), "end_line": float64(1), "annotation_level": "failure", "message": "empty"},
		}
		if got := out["annotations"]; !reflect.DeepEqual(got, want) {
			t.Errorf("annotations = %v, want %v", got, want)
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":99}`)
	})
	id, err := client.CreateCheckRun(context.Background(), "o", "r", "0123456789abcdef", CheckRun{
		Conclusion: forge.ConclusionNeutral, Title: "1 ref diverged", Summary: "| ref |", ExternalID: "42",
		Annotations: []forge.Annotation{{Path: "f.yml", Line: 2, Title: "direction", Message: "want push"}, {Path: "f.yml", Message: "empty"}},
	})
	if err != nil {
		t.Fatalf("CreateCheckRun: %v", err)
	}
	if id != 99 {
		t.Errorf("id = %d, want 99", id)
	}
}

func TestCreateCheckRun_InProgressAndUpdate(t *testing.T) {
	t.Parallel()
	client, mux, _ := setup(t)
	mux.HandleFunc("/repos/o/r/check-runs", func(w http.ResponseWriter, r *http.Request) {
		body := testJSONBody(t, r)
		if body["status"] != "in_progress" || body["conclusion"] != nil || body["output"] != nil {
			t.Errorf("body = %v, want in_progress without conclusion or output", body)
		}
		fmt.Fprint(w, `{"id":5}`)
	})
	mux.HandleFunc("/repos/o/r/check-runs/5", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "PATCH")
		body := testJSONBody(t, r)
		if body["name"] != forge.CheckRunName || body["status"] != "completed" || body["conclusion"] != "success" {
			t.Errorf("body = %v", body)
		}
		out, _ := body["output"].(map[string]any)
		if s, _ := out["summary"].(string); len(s) > maxOutput || !strings.HasSuffix(s, "(cut)") {
			t.Errorf("summary of %d bytes not cut to %d", len(s), maxOutput)
		}
		fmt.Fprint(w, `{"id":5}`)
	})
	ctx := context.Background()
	id, err := client.CreateCheckRun(ctx, "o", "r", "abc", CheckRun{})
	if err != nil {
		t.Fatalf("CreateCheckRun: %v", err)
	}
	long := strings.Repeat("é", maxOutput)
	if err := client.UpdateCheckRun(ctx, "o", "r", id, CheckRun{Conclusion: forge.ConclusionSuccess, Title: "t", Summary: long}); err != nil {
		t.Fatalf("UpdateCheckRun: %v", err)
	}
}

func TestCreateCheckRun_Errors(t *testing.T) {
	t.Parallel()
	t.Run("forbidden", func(t *testing.T) {
		t.Parallel()
		client, mux, _ := setup(t)
		mux.HandleFunc("/repos/o/r/check-runs", func(w http.ResponseWriter, _ *http.Request) {
			errorJSON(w, http.StatusForbidden, "Resource not accessible by integration")
		})
		_, err := client.CreateCheckRun(context.Background(), "o", "r", "abc", CheckRun{Conclusion: forge.ConclusionSuccess})
		testError(t, err, failure.Permission, "checks: write", "Gitee mirror")
	})
	t.Run("server error not repeated", func(t *testing.T) {
		t.Parallel()
		client, mux, _ := setup(t)
		var calls atomic.Int32
		mux.HandleFunc("/repos/o/r/check-runs", func(w http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			errorJSON(w, http.StatusBadGateway, "bad gateway")
		})
		_, err := client.CreateCheckRun(context.Background(), "o", "r", "abc", CheckRun{Conclusion: forge.ConclusionSuccess})
		testError(t, err, failure.Network)
		if n := calls.Load(); n != 1 {
			t.Errorf("POST sent %d times, want once", n)
		}
	})
	t.Run("update retried", func(t *testing.T) {
		t.Parallel()
		client, mux, _ := setup(t)
		var calls atomic.Int32
		mux.HandleFunc("/repos/o/r/check-runs/7", func(w http.ResponseWriter, _ *http.Request) {
			if calls.Add(1) == 1 {
				errorJSON(w, http.StatusBadGateway, "bad gateway")
				return
			}
			fmt.Fprint(w, `{"id":7}`)
		})
		if err := client.UpdateCheckRun(context.Background(), "o", "r", 7, CheckRun{Conclusion: forge.ConclusionFailure}); err != nil {
			t.Fatalf("UpdateCheckRun: %v", err)
		}
	})
	t.Run("bad args", func(t *testing.T) {
		t.Parallel()
		client, _, _ := setup(t)
		ctx := context.Background()
		_, err := client.CreateCheckRun(ctx, "o", "r", "", CheckRun{})
		testError(t, err, failure.Invalid, "no commit")
		_, err = client.CreateCheckRun(ctx, "o", "r", "abc", CheckRun{Status: forge.CheckCompleted})
		testError(t, err, failure.Invalid, "conclusion")
		_, err = client.CreateCheckRun(ctx, "o/x", "r", "abc", CheckRun{})
		testError(t, err, failure.Invalid)
	})
}
