package gitee

import (
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

func TestParsePushHook(t *testing.T) {
	t.Parallel()
	const a, b = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	const zero = "0000000000000000000000000000000000000000"
	tests := map[string]struct {
		body      string
		want      PushEvent
		wantName  string
		wantClass failure.Class
	}{
		"branch push": {
			body: `{"ref":"refs/heads/main","before":"` + a + `","after":"` + b + `","created":false,"deleted":false,
				"total_commits_count":2,"commits_more_than_ten":false,"hook_id":77,"hook_name":"push_hooks",
				"password":"s3cret","sign":"xyz","timestamp":"1700000000000",
				"repository":{"full_name":"alice/proj","path_with_namespace":"alice/proj","name":"Proj","path":"proj",
				"clone_url":"https://gitee.com/alice/proj.git","default_branch":"main","private":true},
				"sender":{"login":"alice"}}`,
			want: PushEvent{Ref: "refs/heads/main", Before: a, After: b, TotalCommits: 2, HookID: 77, HookName: "push_hooks",
				Repository: PushRepository{FullName: "alice/proj", PathWithNamespace: "alice/proj", Name: "Proj", Path: "proj",
					CloneURL: "https://gitee.com/alice/proj.git", DefaultBranch: "main", Private: true},
				Sender: "alice"},
			wantName: "alice/proj",
		},
		"tag created, fields as strings": {
			body: `{"ref":"refs/tags/v1","before":"` + zero + `","after":"` + b + `","hook_id":"78","hook_name":"tag_push_hooks",
				"repository":{"full_name":"alice/proj","git_http_url":"https://gitee.com/alice/proj.git","private":"false"},
				"sender":{"username":"bob"}}`,
			want: PushEvent{Ref: "refs/tags/v1", Before: zero, After: b, Created: true, HookID: 78, HookName: "tag_push_hooks",
				Repository: PushRepository{FullName: "alice/proj", CloneURL: "https://gitee.com/alice/proj.git"}, Sender: "bob"},
			wantName: "alice/proj",
		},
		"branch deleted": {
			body: `{"ref":"refs/heads/old","before":"` + a + `","after":"` + zero + `","deleted":true,
				"repository":{"path_with_namespace":"acme/proj","full_name":"Acme/Proj"}}`,
			want: PushEvent{Ref: "refs/heads/old", Before: a, After: zero, Deleted: true,
				Repository: PushRepository{FullName: "Acme/Proj", PathWithNamespace: "acme/proj"}},
			wantName: "acme/proj",
		},
		"not json":         {body: `{"ref":`, wantClass: failure.Invalid},
		"no ref":           {body: `{"repository":{"full_name":"a/b"}}`, wantClass: failure.Invalid},
		"no repository":    {body: `{"ref":"refs/heads/main"}`, wantClass: failure.Invalid},
		"empty repository": {body: `{"ref":"refs/heads/main","repository":{}}`, wantClass: failure.Invalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := ParsePushHook([]byte(tc.body))
			if got, want := failure.ClassOf(err), tc.wantClass; got != want {
				t.Fatalf("class = %q, want %q (err: %v)", got, want, err)
			}
			if err != nil {
				return
			}
			if got, want := *e, tc.want; got != want {
				t.Errorf("event =\n %+v\nwant\n %+v", got, want)
			}
			if got, want := e.FullName(), tc.wantName; got != want {
				t.Errorf("FullName = %q, want %q", got, want)
			}
		})
	}
}
