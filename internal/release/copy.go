package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// assetJob copies one asset.
type assetJob struct {
	srcRel, dstRel *forge.Release
	src            *forge.Asset
	old            *forge.Asset // the target's asset of that name, to replace; nil if none
	owner          *ReleaseResult
	idx            int          // in owner.Assets
	res            *AssetResult // &owner.Assets[idx], set when the jobs start
}

// copy tries one asset until it lands, its attempts run out, or a failure
// no retry can fix; its result is written into j.res.
func (s *syncer) copy(ctx context.Context, j *assetJob) {
	o := s.opts
	log := s.log.With(slog.String("tag", j.srcRel.TagName), slog.String("asset", j.src.Name), slog.Int64("size", j.src.Size))
	outcome := Created
	if j.old != nil {
		outcome = Updated
	}
	for attempt := 1; ; attempt++ {
		j.res.Attempts = attempt
		err := s.copyOnce(ctx, j)
		if err == nil {
			j.res.Outcome = outcome
			log.Info("asset copied", slog.Int("attempt", attempt))
			return
		}
		if attempt >= o.Attempts || !failure.IsTransient(err) || ctx.Err() != nil {
			j.res.Outcome, j.res.Class, j.res.Message = Failed, failure.ClassOf(err), err.Error()
			log.Warn("asset failed", slog.Int("attempts", attempt), slog.Any("error", err))
			return
		}
		wait := min(o.RetryDelay<<(attempt-1), maxRetryDelay)
		log.Info("retrying asset", slog.Int("attempt", attempt+1), slog.Duration("after", wait), slog.Any("reason", err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		// A failed upload may have left a partial or even a whole asset
		// behind (the answer was lost): look again before the next try.
		if err := s.refind(ctx, j); err != nil {
			log.Info("could not look for leftovers of the failed upload", slog.Any("error", err))
		}
	}
}

// refind looks up the target's asset of j's name again; if it already holds
// the right bytes the next try is a no-op, else it is replaced.
func (s *syncer) refind(ctx context.Context, j *assetJob) error {
	o := s.opts
	have, err := o.Target.Releases.ListAssets(ctx, o.Target.Owner, o.Target.Name, j.dstRel)
	if err != nil {
		return err
	}
	j.old = nil
	for _, a := range have {
		if a.Name == j.src.Name {
			j.old = a
		}
	}
	return nil
}

// copyOnce streams the asset from the source into the target once,
// replacing the target's asset of that name first if there is one.
func (s *syncer) copyOnce(ctx context.Context, j *assetJob) error {
	o := s.opts
	if j.old != nil {
		if sameAsset(j.src, j.old) {
			return nil // a lost answer: the earlier try did land
		}
		err := o.Target.Releases.DeleteAsset(ctx, o.Target.Owner, o.Target.Name, j.dstRel, j.old)
		if err != nil && failure.ClassOf(err) != failure.NotFound {
			return fmt.Errorf("removing the target's different %s before uploading it again: %w", j.src.Name, err)
		}
		j.old = nil
	}
	body, err := o.Source.Releases.DownloadAsset(ctx, o.Source.Owner, o.Source.Name, j.srcRel, j.src)
	if err != nil {
		return err
	}
	defer body.Close()
	v := newVerifier(body, j.src)
	up := forge.AssetUpload{Name: j.src.Name, Size: j.src.Size, ContentType: j.src.ContentType}
	got, err := o.Target.Releases.UploadAsset(ctx, o.Target.Owner, o.Target.Name, j.dstRel, up, v)
	if v.err != nil {
		return v.err // the source's bytes were wrong; the upload was cut short
	}
	if err != nil {
		return err
	}
	if got.Size != j.src.Size || (got.Digest != "" && !strings.EqualFold(got.Digest, v.digest())) {
		j.old = got // replaced on the next try
		return failure.New(failure.Network, "the target stored %s as %d bytes (%s), not the %d bytes sent (%s); uploading it again",
			j.src.Name, got.Size, got.Digest, j.src.Size, v.digest())
	}
	return nil
}

// verifier passes exactly the asset's size of bytes through, hashing them,
// and fails instead of delivering the last byte when the source sent fewer
// bytes or bytes with another digest than it announced: the upload is then
// cut short, so a corrupt copy never lands.
type verifier struct {
	r    io.Reader
	size int64
	want string // "sha256:<hex>" or ""
	n    int64
	h    hash.Hash
	err  error
}

func newVerifier(r io.Reader, a *forge.Asset) *verifier {
	want := ""
	if strings.HasPrefix(strings.ToLower(a.Digest), "sha256:") {
		want = strings.ToLower(a.Digest)
	}
	return &verifier{r: r, size: a.Size, want: want, h: sha256.New()}
}

func (v *verifier) digest() string { return "sha256:" + hex.EncodeToString(v.h.Sum(nil)) }

// Read implements io.Reader.
func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.n >= v.size {
		return 0, io.EOF
	}
	if rest := v.size - v.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n == v.size && v.want != "" && v.digest() != v.want {
		v.err = failure.New(failure.Network, "the source's bytes do not match its digest %s (got %s); downloading again", v.want, v.digest())
		return 0, v.err
	}
	if errors.Is(err, io.EOF) && v.n < v.size {
		v.err = failure.New(failure.Network, "the source's download ended after %d of %d bytes", v.n, v.size)
		return 0, v.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		v.err = failure.Wrap(failure.Network, err, "reading the asset from the source")
		return n, v.err
	}
	if v.n == v.size {
		return n, io.EOF
	}
	return n, nil
}

// mib renders a size for people.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
}
