package forgetest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/forgetest"
)

// The release event's payload has the shape GitHub documents, from the
// forge's own release.
func TestReleasePayload(t *testing.T) {
	t.Parallel()
	f := forgetest.New(t)
	f.CreateRepo("octo", "app")
	f.AddRelease("octo", "app", forgetest.ReleaseSpec{Tag: "v1", Name: "One", Body: "notes", Prerelease: true})
	f.AddReleaseAsset("octo", "app", "v1", "a.bin", strings.NewReader("abc"))
	b, err := json.Marshal(f.ReleasePayload("published", "octo", "app", "v1", 42))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Action  string
		Release struct {
			TagName    string `json:"tag_name"`
			Name, Body string
			Prerelease bool
			UploadURL  string `json:"upload_url"`
			Assets     []struct {
				Name, Digest string
				Size         int64
			}
		}
		Repository struct {
			FullName string `json:"full_name"`
		}
		Installation struct{ ID int64 }
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	r := p.Release
	if p.Action != "published" || r.TagName != "v1" || r.Name != "One" || !r.Prerelease || !strings.HasSuffix(r.UploadURL, "/assets{?name,label}") ||
		len(r.Assets) != 1 || r.Assets[0].Size != 3 || !strings.HasPrefix(r.Assets[0].Digest, "sha256:") ||
		p.Repository.FullName != "octo/app" || p.Installation.ID != 42 {
		t.Errorf("payload %s", b)
	}
}
