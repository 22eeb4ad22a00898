package gitee

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// DefaultAssetLimit is the largest file a free Gitee account may attach to
// a release (100 MB, counted here as 100 MiB; paid plans allow more).
const DefaultAssetLimit = 100 << 20

// maxDownloadRedirects caps the hops from a download URL to the bytes.
const maxDownloadRedirects = 5

var _ forge.Releases = (*Client)(nil)

// apiRelease is Gitee's release object, the fields we read.
type apiRelease struct {
	ID         flexInt  `json:"id"`
	TagName    string   `json:"tag_name"`
	Name       *string  `json:"name"`
	Body       *string  `json:"body"`
	Prerelease flexBool `json:"prerelease"`
}

func (a *apiRelease) release() *forge.Release {
	r := &forge.Release{ID: int64(a.ID), TagName: a.TagName, Prerelease: a.Prerelease.v}
	if a.Name != nil {
		r.Name = *a.Name
	}
	if a.Body != nil {
		r.Body = *a.Body
	}
	return r
}

// apiAttach is Gitee's release attachment ("attach file").
type apiAttach struct {
	ID                 flexInt `json:"id"`
	Name               string  `json:"name"`
	Size               flexInt `json:"size"`
	BrowserDownloadURL string  `json:"browser_download_url"`
}

func (a *apiAttach) asset() *forge.Asset {
	return &forge.Asset{ID: int64(a.ID), Name: a.Name, Size: int64(a.Size), DownloadURL: a.BrowserDownloadURL}
}

// releaseCall prepares a call on /repos/{owner}/{repo}/releases plus tail.
func releaseCall(method, owner, repo, tail, what string) (*call, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	return &call{method: method, path: p + "/releases" + tail, subject: what + " of " + repoSubject(owner, repo), scope: scopes("projects")}, nil
}

// ListReleases lists every release (GET /repos/{owner}/{repo}/releases).
// Gitee has no draft releases.
func (c *Client) ListReleases(ctx context.Context, owner, name string) ([]*forge.Release, error) {
	k, err := releaseCall(http.MethodGet, owner, name, "", "the releases")
	if err != nil {
		return nil, err
	}
	k.query = url.Values{"direction": {"desc"}}
	raw, err := listAll[apiRelease](ctx, c, *k)
	if err != nil {
		return nil, err
	}
	out := make([]*forge.Release, 0, len(raw))
	for i := range raw {
		out = append(out, raw[i].release())
	}
	return out, nil
}

// GetReleaseByTag returns the release of tag; failure.NotFound when there is
// none (Gitee answers 404, or 200 with null).
func (c *Client) GetReleaseByTag(ctx context.Context, owner, name, tag string) (*forge.Release, error) {
	if tag == "" || strings.ContainsAny(tag, "?#") {
		return nil, failure.New(failure.Invalid, "%q is not a tag name", tag)
	}
	k, err := releaseCall(http.MethodGet, owner, name, "/tags/"+url.PathEscape(tag), "the release of tag "+tag)
	if err != nil {
		return nil, err
	}
	var raw *apiRelease
	if _, err := c.do(ctx, k, &raw); err != nil {
		return nil, err
	}
	if raw == nil || raw.ID == 0 {
		return nil, failure.New(failure.NotFound, "%s: no release of tag %s on Gitee", k.desc(), tag)
	}
	return raw.release(), nil
}

func releaseForm(in forge.ReleaseInput) url.Values {
	f := url.Values{
		"tag_name":   {in.TagName},
		"name":       {in.Name},
		"body":       {in.Body},
		"prerelease": {strconv.FormatBool(in.Prerelease)},
	}
	if in.TargetCommitish != "" {
		f.Set("target_commitish", in.TargetCommitish)
	}
	return f
}

// CreateRelease publishes a release of a tag (POST …/releases; Gitee wants
// target_commitish even when the tag exists).
func (c *Client) CreateRelease(ctx context.Context, owner, name string, in forge.ReleaseInput) (*forge.Release, error) {
	k, err := releaseCall(http.MethodPost, owner, name, "", "the release of tag "+in.TagName)
	if err != nil {
		return nil, err
	}
	if in.TargetCommitish == "" {
		in.TargetCommitish = in.TagName
	}
	k.form = releaseForm(in)
	var raw apiRelease
	if _, err := c.do(ctx, k, &raw); err != nil {
		return nil, err
	}
	return raw.release(), nil
}

// UpdateRelease rewrites release id (PATCH …/releases/{id}; Gitee requires
// tag_name, name and body).
func (c *Client) UpdateRelease(ctx context.Context, owner, name string, id int64, in forge.ReleaseInput) (*forge.Release, error) {
	k, err := releaseCall(http.MethodPatch, owner, name, "/"+strconv.FormatInt(id, 10), "the release of tag "+in.TagName)
	if err != nil {
		return nil, err
	}
	k.form = releaseForm(in)
	var raw apiRelease
	if _, err := c.do(ctx, k, &raw); err != nil {
		return nil, err
	}
	return raw.release(), nil
}

// ListAssets lists a release's attachments (GET …/releases/{id}/attach_files).
func (c *Client) ListAssets(ctx context.Context, owner, name string, r *forge.Release) ([]*forge.Asset, error) {
	k, err := releaseCall(http.MethodGet, owner, name, fmt.Sprintf("/%d/attach_files", r.ID), "the attachments of release "+r.TagName)
	if err != nil {
		return nil, err
	}
	raw, err := listAll[apiAttach](ctx, c, *k)
	if err != nil {
		return nil, err
	}
	out := make([]*forge.Asset, 0, len(raw))
	for i := range raw {
		out = append(out, raw[i].asset())
	}
	return out, nil
}

// DeleteAsset removes an attachment (DELETE …/attach_files/{id}).
func (c *Client) DeleteAsset(ctx context.Context, owner, name string, r *forge.Release, a *forge.Asset) error {
	k, err := releaseCall(http.MethodDelete, owner, name, fmt.Sprintf("/%d/attach_files/%d", r.ID, a.ID), "attachment "+a.Name+" of release "+r.TagName)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, k, nil)
	return err
}

// AssetLimit is DefaultAssetLimit: what a free account may attach.
func (c *Client) AssetLimit() int64 { return DefaultAssetLimit }

// UploadAsset streams body as the multipart field "file" (POST
// …/releases/{id}/attach_files). The multipart envelope is built around the
// reader, so the request has an exact Content-Length (a server can refuse
// an oversized file before it arrives) and no copy of the file is held.
// It is not retried here: the reader is spent after one try.
func (c *Client) UploadAsset(ctx context.Context, owner, name string, r *forge.Release, a forge.AssetUpload, body io.Reader) (*forge.Asset, error) {
	k, err := releaseCall(http.MethodPost, owner, name, fmt.Sprintf("/%d/attach_files", r.ID), fmt.Sprintf("attachment %s (%d bytes) of release %s", a.Name, a.Size, r.TagName))
	if err != nil {
		return nil, err
	}
	if a.Name == "" || strings.ContainsAny(a.Name, "\r\n\"/\\") {
		return nil, failure.New(failure.Invalid, "%q cannot be an attachment name on Gitee", a.Name)
	}
	head, tail, ctype, err := c.envelope(a)
	if err != nil {
		return nil, failure.Wrap(failure.Internal, err, "%s: cannot build the multipart envelope", k.desc())
	}
	in := io.MultiReader(bytes.NewReader(head), io.LimitReader(body, a.Size), bytes.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+k.path, in)
	if err != nil {
		return nil, failure.New(failure.Invalid, "%s: cannot build the request", k.desc())
	}
	req.ContentLength = int64(len(head)) + a.Size + int64(len(tail))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, k, err)
	}
	defer resp.Body.Close()
	raw, over, err := readBody(resp.Body)
	if err != nil {
		return nil, c.transportError(ctx, k, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode == http.StatusRequestEntityTooLarge {
			return nil, failure.New(failure.Rejected, "%s: Gitee refused the file as too large (HTTP 413): free accounts take at most 100 MB per attachment", k.desc())
		}
		return nil, c.statusError(k, resp, raw)
	}
	if over {
		return nil, tooLarge(k, resp.StatusCode)
	}
	var out apiAttach
	if err := json.Unmarshal(raw, &out); err != nil || out.Name == "" {
		return nil, failure.New(failure.Internal, "%s: Gitee answered HTTP %d without the attachment's JSON", k.desc(), resp.StatusCode)
	}
	return out.asset(), nil
}

// envelope renders the multipart parts before and after the file's bytes:
// access_token, then the "file" part's header; then the closing boundary.
func (c *Client) envelope(a forge.AssetUpload) (head, tail []byte, ctype string, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("access_token", c.token); err != nil {
		return nil, nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, a.Name))
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if _, err := mw.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, nil, "", err
	}
	return head, bytes.Clone(buf.Bytes()), mw.FormDataContentType(), nil
}

// DownloadAsset fetches an attachment from its browser_download_url. The
// token goes along (as access_token, for private repositories) only when
// that URL is on this Gitee host; redirects to storage are followed without
// it, never from https to http.
func (c *Client) DownloadAsset(ctx context.Context, owner, name string, r *forge.Release, a *forge.Asset) (io.ReadCloser, error) {
	k := &call{method: http.MethodGet, path: fmt.Sprintf("/repos/%s/%s/releases/%d/attach_files/%d", owner, name, r.ID, a.ID),
		subject: "attachment " + a.Name + " of release " + r.TagName, scope: scopes("projects")}
	u, err := url.Parse(a.DownloadURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, failure.New(failure.Internal, "%s: Gitee gave no usable download URL for %s", k.desc(), a.Name)
	}
	if c.ownHost(u) {
		q := u.Query()
		q.Set("access_token", c.token)
		u.RawQuery = q.Encode()
	}
	for hop := 0; ; hop++ {
		resp, err := c.fetch(ctx, u)
		if err != nil {
			return nil, c.transportError(ctx, k, err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			return resp.Body, nil
		case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
			resp.Body.Close()
			next, err := u.Parse(resp.Header.Get("Location"))
			if err != nil || hop >= maxDownloadRedirects || (u.Scheme == "https" && next.Scheme != "https") || next.User != nil {
				return nil, failure.New(failure.Rejected, "%s: Gitee redirected the download somewhere unusable; not followed", k.desc())
			}
			if !c.ownHost(next) {
				q := next.Query()
				if q.Get("access_token") == c.token {
					q.Del("access_token")
					next.RawQuery = q.Encode()
				}
			}
			u = next
			continue
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		return nil, c.statusError(k, resp, raw)
	}
}

// ownHost reports whether u is on the API or Git host of this client.
func (c *Client) ownHost(u *url.URL) bool {
	git, _ := url.Parse(c.gitBase)
	return u.Scheme == c.base.Scheme && (u.Host == c.base.Host || (git != nil && u.Host == git.Host))
}

func (c *Client) fetch(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.ua)
	return c.hc.Do(req)
}
