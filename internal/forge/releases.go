package forge

import (
	"context"
	"io"
)

// Release is a release as both sites describe it. Gitee has no drafts.
type Release struct {
	ID         int64
	TagName    string
	Name       string
	Body       string // the notes, Markdown
	Draft      bool
	Prerelease bool
	// UploadURL is where GitHub takes this release's assets (its upload_url,
	// without the {?name,label} template); "" on sites that need none.
	UploadURL string
}

// ReleaseInput is what CreateRelease and UpdateRelease write.
type ReleaseInput struct {
	TagName    string
	Name       string
	Body       string
	Prerelease bool
	// TargetCommitish is where a site creates the tag if it does not exist
	// yet; mirroring only creates releases whose tag is already there.
	TargetCommitish string
}

// Asset is a file attached to a release.
type Asset struct {
	ID          int64
	Name        string
	Size        int64
	ContentType string
	// Digest is "sha256:<hex>" when the site gives one (GitHub does), else "".
	Digest string
	// DownloadURL is the browser download URL, for people; DownloadAsset
	// knows how to fetch the bytes with the token.
	DownloadURL string
	// Incomplete is set for an upload that never finished (GitHub's state
	// "starter"): it holds no usable bytes and is replaced.
	Incomplete bool
}

// AssetUpload describes an asset to upload; the bytes come as an io.Reader.
type AssetUpload struct {
	Name        string
	Size        int64 // exact length of the reader's bytes
	ContentType string
}

// Releases is the capability of a site to keep releases and their assets.
// Find it with a type assertion on a Forge. Every error is a
// *failure.Error; the bytes of assets are streamed, never held whole.
type Releases interface {
	// ListReleases lists every release of owner/name the token can see,
	// newest first, following pagination. Drafts are included where the
	// token sees them (GitHub: push access).
	ListReleases(ctx context.Context, owner, name string) ([]*Release, error)
	// GetReleaseByTag returns the release of a tag; failure.NotFound when
	// there is none.
	GetReleaseByTag(ctx context.Context, owner, name, tag string) (*Release, error)
	// CreateRelease publishes a release (never a draft).
	CreateRelease(ctx context.Context, owner, name string, in ReleaseInput) (*Release, error)
	// UpdateRelease rewrites the name, notes and prerelease flag of release
	// id, and publishes it where it was a draft.
	UpdateRelease(ctx context.Context, owner, name string, id int64, in ReleaseInput) (*Release, error)
	// ListAssets lists the assets of a release.
	ListAssets(ctx context.Context, owner, name string, r *Release) ([]*Asset, error)
	// UploadAsset streams exactly a.Size bytes from body into a new asset.
	UploadAsset(ctx context.Context, owner, name string, r *Release, a AssetUpload, body io.Reader) (*Asset, error)
	// DownloadAsset streams an asset's bytes; the caller closes the reader.
	DownloadAsset(ctx context.Context, owner, name string, r *Release, a *Asset) (io.ReadCloser, error)
	// DeleteAsset removes an asset, so that a different one of the same
	// name can take its place.
	DeleteAsset(ctx context.Context, owner, name string, r *Release, a *Asset) error
	// AssetLimit is the largest asset, in bytes, the site takes by default;
	// 0 when it has no known limit.
	AssetLimit() int64
}
