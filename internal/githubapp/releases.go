package githubapp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// MaxAssetSize is GitHub's limit on one release asset (2 GiB).
const MaxAssetSize = 2 << 30

// maxStorageRedirects caps the hops from the asset endpoint to the bytes.
const maxStorageRedirects = 5

var _ forge.Releases = (*Client)(nil)

// releaseOp names a release request on owner/name for errors.
func releaseOp(what, owner, name string) op {
	return op{
		what:      fmt.Sprintf("%s on GitHub repository %s/%s", what, owner, name),
		forbidden: "releases need 'contents: write' (GitHub App or fine-grained token) or the repo scope (classic token)",
	}
}

// ListReleases lists every release, newest first, drafts included when the
// token can push.
func (c *Client) ListReleases(ctx context.Context, owner, name string) ([]*forge.Release, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp("list releases", owner, name)
	var out []*forge.Release
	opts := &github.ListOptions{PerPage: perPage, Page: 1}
	for {
		var page []*github.RepositoryRelease
		var resp *github.Response
		err := c.retry.do(ctx, true, func() (r *github.Response, err error) {
			page, r, err = c.gh.Repositories.ListReleases(ctx, owner, name, opts)
			resp = r
			return r, err
		})
		if err != nil {
			return nil, c.fail(err, o)
		}
		for _, r := range page {
			out = append(out, toRelease(r))
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		if resp.NextPage <= opts.Page {
			return nil, failure.New(failure.Internal, "%s: GitHub's next page (%d) does not follow page %d", o.what, resp.NextPage, opts.Page)
		}
		opts.Page = resp.NextPage
	}
}

// GetReleaseByTag returns the published release of tag; failure.NotFound
// when there is none (GitHub does not find drafts by tag).
func (c *Client) GetReleaseByTag(ctx context.Context, owner, name, tag string) (*forge.Release, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp("get the release of tag "+tag, owner, name)
	o.notFound = "no release has this tag"
	var r *github.RepositoryRelease
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		r, resp, err = c.gh.Repositories.GetReleaseByTag(ctx, owner, name, tag)
		return resp, err
	})
	if err != nil {
		return nil, c.fail(err, o)
	}
	return toRelease(r), nil
}

// CreateRelease publishes a release of an existing tag.
func (c *Client) CreateRelease(ctx context.Context, owner, name string, in forge.ReleaseInput) (*forge.Release, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp("create the release of tag "+in.TagName, owner, name)
	o.invalid = "a release of this tag may exist already, or the tag name is not valid"
	req := &github.RepositoryRelease{
		TagName: github.String(in.TagName), Name: github.String(in.Name), Body: github.String(in.Body),
		Draft: github.Bool(false), Prerelease: github.Bool(in.Prerelease),
	}
	if in.TargetCommitish != "" {
		req.TargetCommitish = github.String(in.TargetCommitish)
	}
	var r *github.RepositoryRelease
	// A POST is not repeated: a lost answer could make a second release.
	err := c.retry.do(ctx, false, func() (resp *github.Response, err error) {
		r, resp, err = c.gh.Repositories.CreateRelease(ctx, owner, name, req)
		return resp, err
	})
	if err != nil {
		return nil, c.fail(err, o)
	}
	return toRelease(r), nil
}

// UpdateRelease rewrites name, notes and prerelease flag of release id, and
// publishes it if it was a draft.
func (c *Client) UpdateRelease(ctx context.Context, owner, name string, id int64, in forge.ReleaseInput) (*forge.Release, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp(fmt.Sprintf("update release %d (tag %s)", id, in.TagName), owner, name)
	// Draft false: a draft of the tag on the target is published, as the
	// source's release is.
	req := &github.RepositoryRelease{Name: github.String(in.Name), Body: github.String(in.Body), Prerelease: github.Bool(in.Prerelease), Draft: github.Bool(false)}
	var r *github.RepositoryRelease
	err := c.retry.do(ctx, true, func() (resp *github.Response, err error) {
		r, resp, err = c.gh.Repositories.EditRelease(ctx, owner, name, id, req)
		return resp, err
	})
	if err != nil {
		return nil, c.fail(err, o)
	}
	return toRelease(r), nil
}

// ghAsset is GitHub's release asset with the digest field go-github v62
// does not know.
type ghAsset struct {
	ID                 int64   `json:"id"`
	Name               string  `json:"name"`
	State              string  `json:"state"`
	ContentType        string  `json:"content_type"`
	Size               int64   `json:"size"`
	Digest             *string `json:"digest"`
	BrowserDownloadURL string  `json:"browser_download_url"`
}

func (a *ghAsset) toAsset() *forge.Asset {
	out := &forge.Asset{ID: a.ID, Name: a.Name, Size: a.Size, ContentType: a.ContentType, DownloadURL: a.BrowserDownloadURL}
	if a.Digest != nil {
		out.Digest = *a.Digest
	}
	if a.State != "" && a.State != "uploaded" {
		// "starter": an upload that never finished; it holds no usable bytes.
		out.Incomplete = true
	}
	return out
}

// ListAssets lists the assets of release r.
func (c *Client) ListAssets(ctx context.Context, owner, name string, r *forge.Release) ([]*forge.Asset, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp(fmt.Sprintf("list the assets of release %s", r.TagName), owner, name)
	var out []*forge.Asset
	for page := 1; ; {
		u := fmt.Sprintf("repos/%s/%s/releases/%d/assets?per_page=%d&page=%d", owner, name, r.ID, perPage, page)
		var list []ghAsset
		var resp *github.Response
		err := c.retry.do(ctx, true, func() (*github.Response, error) {
			req, err := c.gh.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			list = nil
			resp, err = c.gh.Do(ctx, req, &list)
			return resp, err
		})
		if err != nil {
			return nil, c.fail(err, o)
		}
		for i := range list {
			out = append(out, list[i].toAsset())
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		if resp.NextPage <= page {
			return nil, failure.New(failure.Internal, "%s: GitHub's next page (%d) does not follow page %d", o.what, resp.NextPage, page)
		}
		page = resp.NextPage
	}
}

// UploadAsset streams body to the release's upload_url. It is never
// repeated here: the body is gone after one try; the caller retries with a
// fresh reader.
func (c *Client) UploadAsset(ctx context.Context, owner, name string, r *forge.Release, a forge.AssetUpload, body io.Reader) (*forge.Asset, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp(fmt.Sprintf("upload asset %s (%d bytes) to release %s", a.Name, a.Size, r.TagName), owner, name)
	o.invalid = "an asset of this name may exist already (delete it first), or the file is empty or larger than 2 GiB"
	target, err := c.uploadURL(owner, name, r)
	if err != nil {
		return nil, failure.Wrap(failure.ClassOf(err), err, "%s", o.what)
	}
	q := url.Values{"name": {a.Name}}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	req, err := c.gh.NewUploadRequest(target+"?"+q.Encode(), body, a.Size, ct)
	if err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "%s: cannot build the request", o.what)
	}
	var out ghAsset
	if _, err := c.gh.Do(ctx, req, &out); err != nil {
		return nil, c.fail(err, o)
	}
	return out.toAsset(), nil
}

// uploadURL is the release's upload_url without its URI template, when it
// points at the configured uploads host; the token goes nowhere else.
// Without one it is built from the uploads base.
func (c *Client) uploadURL(owner, name string, r *forge.Release) (string, error) {
	base := c.gh.UploadURL
	raw, _, _ := strings.Cut(r.UploadURL, "{")
	if raw == "" {
		return base.String() + fmt.Sprintf("repos/%s/%s/releases/%d/assets", url.PathEscape(owner), url.PathEscape(name), r.ID), nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
		return "", failure.New(failure.Rejected, "GitHub gave an upload URL on another host than the configured uploads host %s; the token is not sent there: check the API URL", base.Host)
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// DownloadAsset asks the API for the asset's bytes (Accept:
// application/octet-stream) and follows GitHub's redirect to its storage
// without the token: the storage URL is signed, and a token beside it is
// refused there. Redirects may not leave https once on it.
func (c *Client) DownloadAsset(ctx context.Context, owner, name string, r *forge.Release, a *forge.Asset) (io.ReadCloser, error) {
	if err := checkNames(owner, name); err != nil {
		return nil, err
	}
	o := releaseOp(fmt.Sprintf("download asset %s of release %s", a.Name, r.TagName), owner, name)
	api := *c.gh.Client()
	api.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var body io.ReadCloser
	var location string
	err := c.retry.do(ctx, true, func() (*github.Response, error) {
		req, err := c.gh.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/releases/assets/%d", owner, name, a.ID), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/octet-stream")
		resp, err := api.Do(req.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			body = resp.Body
			return &github.Response{Response: resp}, nil
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			resp.Body.Close()
			location = resp.Header.Get("Location")
			return &github.Response{Response: resp}, nil
		}
		defer resp.Body.Close()
		return &github.Response{Response: resp}, github.CheckResponse(resp)
	})
	if err != nil {
		return nil, c.fail(err, o)
	}
	if body != nil {
		return body, nil
	}
	return c.fromStorage(ctx, o, location)
}

// fromStorage fetches a signed storage URL with no credentials.
func (c *Client) fromStorage(ctx context.Context, o op, location string) (io.ReadCloser, error) {
	u, err := c.gh.BaseURL.Parse(location)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && c.gh.BaseURL.Scheme == "http")) || u.User != nil {
		return nil, failure.New(failure.Rejected, "%s: GitHub redirected to an unusable storage URL; not followed", o.what)
	}
	hc := &http.Client{Transport: storageTransport, CheckRedirect: storageRedirects}
	var body io.ReadCloser
	err = c.retry.do(ctx, true, func() (*github.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/octet-stream")
		req.Header.Set("User-Agent", userAgent)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return &github.Response{Response: resp}, &github.ErrorResponse{Response: resp, Message: "asset storage answered " + resp.Status}
		}
		body = resp.Body
		return &github.Response{Response: resp}, nil
	})
	if err != nil {
		return nil, c.fail(stripURL(err), o)
	}
	return body, nil
}

// storageTransport fetches asset bytes from GitHub's storage; it carries
// no credentials. A variable so tests can count its requests.
var storageTransport http.RoundTripper = http.DefaultTransport

// storageRedirects follows a few redirects, never from https to http.
func storageRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxStorageRedirects {
		return failure.New(failure.Rejected, "asset storage redirected more than %d times", maxStorageRedirects)
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return failure.New(failure.Rejected, "asset storage redirected from https to %s; not followed", req.URL.Scheme)
	}
	return nil
}

// stripURL keeps a signed storage URL (its query is a credential) out of a
// transport error's text.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// DeleteAsset removes an asset.
func (c *Client) DeleteAsset(ctx context.Context, owner, name string, r *forge.Release, a *forge.Asset) error {
	if err := checkNames(owner, name); err != nil {
		return err
	}
	o := releaseOp(fmt.Sprintf("delete asset %s of release %s", a.Name, r.TagName), owner, name)
	err := c.retry.do(ctx, true, func() (*github.Response, error) {
		return c.gh.Repositories.DeleteReleaseAsset(ctx, owner, name, a.ID)
	})
	if err != nil {
		return c.fail(err, o)
	}
	return nil
}

// AssetLimit is 2 GiB, GitHub's limit per asset.
func (c *Client) AssetLimit() int64 { return MaxAssetSize }

func toRelease(r *github.RepositoryRelease) *forge.Release {
	return &forge.Release{
		ID: r.GetID(), TagName: r.GetTagName(), Name: r.GetName(), Body: r.GetBody(),
		Draft: r.GetDraft(), Prerelease: r.GetPrerelease(), UploadURL: r.GetUploadURL(),
	}
}
