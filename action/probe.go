package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// maxAdvertisement bounds the ref advertisement read by sourceEmpty; a
// repository whose refs fill it is not empty anyway.
const maxAdvertisement = 8 << 20

// sourceEmpty asks the source's Git server whether a repository has any
// branch or tag: one info/refs request, made before a destination is created
// for it, so that an empty source does not leave an empty mirror behind.
// Credentials travel as basic auth, never in the URL.
func sourceEmpty(ctx context.Context, hc *http.Client, gitURL string, cred forge.Credentials) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(gitURL, "/")+"/info/refs?service=git-upload-pack", nil)
	if err != nil {
		return false, failure.New(failure.Invalid, "the source's Git URL is not valid")
	}
	if cred.Token != "" {
		req.SetBasicAuth(cred.Username, cred.Token)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return false, probeError(ctx, 0, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return false, probeError(ctx, resp.StatusCode, nil)
	}
	adv := packp.NewAdvRefs()
	switch err := adv.Decode(io.LimitReader(resp.Body, maxAdvertisement)); {
	case errors.Is(err, packp.ErrEmptyAdvRefs):
		return true, nil
	case err != nil:
		return false, failure.Wrap(failure.Network, err, "reading the source's refs")
	}
	refs, err := adv.AllReferences()
	if err != nil {
		return false, failure.Wrap(failure.Internal, err, "reading the source's refs")
	}
	for name := range refs {
		if n := name.String(); strings.HasPrefix(n, "refs/heads/") || strings.HasPrefix(n, "refs/tags/") {
			return false, nil
		}
	}
	return true, nil
}

// probeError classifies a failed info/refs request as the core would. The
// transport error is not kept: it quotes the URL.
func probeError(ctx context.Context, status int, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	switch {
	case ctx.Err() != nil:
		return failure.New(failure.Timeout, "reading the source's refs timed out")
	case status == http.StatusUnauthorized:
		return failure.New(failure.Auth, "the source refused the token (HTTP 401): check the source-token (or github-token)")
	case status == http.StatusForbidden:
		return failure.New(failure.Permission, "the source token may not read this repository (HTTP 403)")
	case status == http.StatusNotFound:
		return failure.New(failure.NotFound, "the source repository does not exist, or the token cannot see it (HTTP 404)")
	case status == http.StatusTooManyRequests:
		return failure.New(failure.RateLimited, "the source asked us to slow down (HTTP 429)")
	case status != 0:
		return failure.New(failure.Network, "reading the source's refs: HTTP %d", status)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the cause, without the URL
	}
	return failure.New(failure.Network, "reading the source's refs: %v", err)
}
