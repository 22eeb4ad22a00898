package gitee

import (
	"context"
	"net/http"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func hookJSON(id int, url string) map[string]any {
	return map[string]any{
		"id": id, "url": url, "password": "", "encryption_type": 1,
		"push_events": true, "tag_push_events": "true", "issues_events": false,
		"project_id": 7, "created_at": "2024-01-01T00:00:00+08:00",
	}
}

func TestListHooks(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /repos/alice/proj/hooks", reply(http.StatusOK, []any{hookJSON(1, "https://a.example/h"), hookJSON(2, "https://b.example/h")}))
	hooks, err := f.client(t).ListHooks(context.Background(), "alice", "proj")
	if err != nil {
		t.Fatalf("ListHooks: %v", err)
	}
	if got, want := len(hooks), 2; got != want {
		t.Fatalf("%d hooks, want %d", got, want)
	}
	want := Hook{ID: 2, URL: "https://b.example/h", EncryptionType: SignatureMode, PushEvents: true, TagPushEvents: true}
	if got := *hooks[1]; got != want {
		t.Errorf("hook = %+v, want %+v", got, want)
	}
	q := f.queriesOf("GET /repos/alice/proj/hooks")[0]
	if got, want := q.Get("page")+"/"+q.Get("per_page"), "1/100"; got != want {
		t.Errorf("page/per_page = %s, want %s", got, want)
	}
}

func TestCreateAndUpdateHook(t *testing.T) {
	t.Parallel()
	opts := HookOptions{URL: "https://app.example/hooks/gitee", EncryptionType: SignatureMode, Password: "s3cret", PushEvents: true, TagPushEvents: true}
	wantForm := map[string]string{
		"url": opts.URL, "encryption_type": "1", "password": "s3cret",
		"push_events": "true", "tag_push_events": "true",
		"issues_events": "false", "note_events": "false", "merge_requests_events": "false",
	}
	tests := map[string]struct {
		route string
		call  func(*Client) (*Hook, error)
	}{
		"create": {
			route: "POST /repos/alice/proj/hooks",
			call: func(c *Client) (*Hook, error) {
				return c.CreateHook(context.Background(), "alice", "proj", opts)
			},
		},
		"update": {
			route: "PATCH /repos/alice/proj/hooks/9",
			call: func(c *Client) (*Hook, error) {
				return c.UpdateHook(context.Background(), "alice", "proj", 9, opts)
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle(tc.route, reply(http.StatusCreated, hookJSON(9, opts.URL)))
			h, err := tc.call(f.client(t))
			if err != nil {
				t.Fatalf("%s: %v", tc.route, err)
			}
			if got, want := h.ID, int64(9); got != want {
				t.Errorf("ID = %d, want %d", got, want)
			}
			form := f.formsOf(tc.route)[0]
			for k, v := range wantForm {
				if got := form.Get(k); got != v {
					t.Errorf("form %s = %q, want %q", k, got, v)
				}
			}
			if got, want := len(form), len(wantForm); got != want {
				t.Errorf("form has %d fields (%v), want %d", got, form, want)
			}
		})
	}
}

func TestHookValidation(t *testing.T) {
	t.Parallel()
	good := HookOptions{URL: "https://app.example/h", Password: "p", PushEvents: true}
	tests := map[string]func(*Client) error{
		"no url": func(c *Client) error {
			o := good
			o.URL = ""
			_, err := c.CreateHook(context.Background(), "a", "b", o)
			return err
		},
		"no secret": func(c *Client) error {
			o := good
			o.Password = ""
			_, err := c.CreateHook(context.Background(), "a", "b", o)
			return err
		},
		"bad mode": func(c *Client) error {
			o := good
			o.EncryptionType = 7
			_, err := c.UpdateHook(context.Background(), "a", "b", 1, o)
			return err
		},
		"zero id":     func(c *Client) error { return c.DeleteHook(context.Background(), "a", "b", 0) },
		"negative id": func(c *Client) error { return c.TestHook(context.Background(), "a", "b", -1) },
		"bad repo":    func(c *Client) error { _, err := c.ListHooks(context.Background(), "a", "../b"); return err },
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t) // no routes: any request fails the test
			err := call(f.client(t))
			if got, want := failure.ClassOf(err), failure.Invalid; got != want {
				t.Errorf("class = %q, want %q (err: %v)", got, want, err)
			}
		})
	}
}

func TestDeleteAndTestHook(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("DELETE /repos/alice/proj/hooks/9", reply(http.StatusNoContent, nil))
	f.handle("POST /repos/alice/proj/hooks/9/tests", sequence(reply(503, nil), reply(http.StatusNoContent, nil)))
	c := f.client(t)
	if err := c.DeleteHook(context.Background(), "alice", "proj", 9); err != nil {
		t.Errorf("DeleteHook: %v", err)
	}
	if err := c.TestHook(context.Background(), "alice", "proj", 9); err != nil {
		t.Errorf("TestHook: %v", err)
	}
	if got, want := f.hitCount("POST /repos/alice/proj/hooks/9/tests"), 2; got != want {
		t.Errorf("test deliveries asked %d times, want %d (a 503 is retried)", got, want)
	}
}

func TestCreateHookIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("POST /repos/alice/proj/hooks", reply(503, nil))
	_, err := f.client(t).CreateHook(context.Background(), "alice", "proj", HookOptions{URL: "https://h.example", Password: "p"})
	if got, want := failure.ClassOf(err), failure.Network; got != want {
		t.Errorf("class = %q, want %q", got, want)
	}
	if got, want := f.hitCount("POST /repos/alice/proj/hooks"), 1; got != want {
		t.Errorf("POSTs = %d, want %d", got, want)
	}
}

func TestHookPermission(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /repos/alice/proj/hooks", reply(http.StatusForbidden, msg("Forbidden")))
	_, err := f.client(t).ListHooks(context.Background(), "alice", "proj")
	if got, want := failure.ClassOf(err), failure.Permission; got != want {
		t.Fatalf("class = %q, want %q", got, want)
	}
	if !contains(err.Error(), "`hook`") {
		t.Errorf("error does not name the hook scope: %v", err)
	}
}

func TestPutHook(t *testing.T) {
	t.Parallel()
	const url = "https://app.example/webhooks/gitee/abc"
	opts := HookOptions{URL: url, EncryptionType: SignatureMode, Password: "s3cret", PushEvents: true, TagPushEvents: true}
	list := "GET /repos/alice/proj/hooks"
	tests := map[string]struct {
		id     int64
		routes map[string]http.HandlerFunc
		wantID int64
		calls  []string // routes that must be called, in any order
		never  []string // routes that must not be called
	}{
		"known id": {
			id:     9,
			routes: map[string]http.HandlerFunc{"PATCH /repos/alice/proj/hooks/9": reply(http.StatusOK, hookJSON(9, url))},
			wantID: 9, calls: []string{"PATCH /repos/alice/proj/hooks/9"}, never: []string{list, "POST /repos/alice/proj/hooks"},
		},
		"known id deleted on Gitee, none with the URL": {
			id: 9,
			routes: map[string]http.HandlerFunc{
				"PATCH /repos/alice/proj/hooks/9": reply(http.StatusNotFound, msg("Not Found")),
				list:                              reply(http.StatusOK, []any{hookJSON(3, "https://other.example/h")}),
				"POST /repos/alice/proj/hooks":    reply(http.StatusCreated, hookJSON(12, url)),
			},
			wantID: 12, calls: []string{list, "POST /repos/alice/proj/hooks"},
		},
		"no id, one with the URL": {
			routes: map[string]http.HandlerFunc{
				list:                              reply(http.StatusOK, []any{hookJSON(3, "https://other.example/h"), hookJSON(5, url)}),
				"PATCH /repos/alice/proj/hooks/5": reply(http.StatusOK, hookJSON(5, url)),
			},
			wantID: 5, calls: []string{list, "PATCH /repos/alice/proj/hooks/5"}, never: []string{"POST /repos/alice/proj/hooks"},
		},
		"no id, none": {
			routes: map[string]http.HandlerFunc{
				list:                           reply(http.StatusOK, []any{}),
				"POST /repos/alice/proj/hooks": reply(http.StatusCreated, hookJSON(12, url)),
			},
			wantID: 12, calls: []string{list, "POST /repos/alice/proj/hooks"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			for route, h := range tt.routes {
				f.handle(route, h)
			}
			h, err := f.client(t).PutHook(context.Background(), "alice", "proj", tt.id, opts)
			if err != nil || h.ID != tt.wantID {
				t.Fatalf("PutHook = %+v, %v; want hook %d", h, err, tt.wantID)
			}
			for _, r := range tt.calls {
				if f.hitCount(r) != 1 {
					t.Errorf("%s called %d times, want 1", r, f.hitCount(r))
				}
			}
			for _, r := range tt.never {
				if f.hitCount(r) != 0 {
					t.Errorf("%s called", r)
				}
			}
		})
	}
	t.Run("other errors are returned", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.handle("PATCH /repos/alice/proj/hooks/9", reply(http.StatusUnauthorized, msg("401 Unauthorized: Access token does not exist")))
		if _, err := f.client(t).PutHook(context.Background(), "alice", "proj", 9, opts); failure.ClassOf(err) != failure.Auth {
			t.Errorf("PutHook error = %v, want auth", err)
		}
		if f.hitCount(list) != 0 {
			t.Error("listed hooks after an auth error")
		}
	})
}
