package actioncmd

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
)

// dstIndex is what one listing of the destination account says exists, so
// that mirroring an account costs one listing instead of one lookup per
// repository (on every run, not just the first). When complete, the listing
// shows all the token could look up one by one (an organisation's
// repositories, or the token owner's own), so a name it lacks is missing;
// otherwise only the names it has are trusted.
type dstIndex struct {
	names    map[string]bool // lower case
	complete bool
}

// lookup says whether name exists; known is false when the index cannot
// tell and the repository must be looked up.
func (d *dstIndex) lookup(name string) (exists, known bool) {
	if d == nil {
		return false, false
	}
	if d.names[strings.ToLower(name)] {
		return true, true
	}
	return false, d.complete
}

// scanDestination lists the destination account once. Listing it as an
// organisation also tells whether it is one, which spares each creation a
// lookup. Any failure leaves per-repository lookups to do the work.
func (r *accountRun) scanDestination(ctx context.Context) *dstIndex {
	owner := r.o.destination.owner
	kind := r.dstKind.get(ctx, r.dst, owner)
	switch kind {
	case "", forge.Org:
		kind = forge.Org
	case forge.User:
		if l, ok := r.dst.(loginer); !ok || !isLogin(ctx, l, owner) {
			return nil // another user's listing shows only public repositories
		}
	default:
		return nil
	}
	repos, err := r.dst.ListRepos(ctx, owner, kind)
	if err != nil {
		r.o.sync.Logger.Debug("listing the destination failed; looking repositories up one by one",
			slog.String("destination", r.o.destination.String()), slog.Any("error", err))
		return nil
	}
	if kind == forge.Org {
		r.dstKind.set(forge.Org)
	}
	idx := &dstIndex{names: make(map[string]bool, len(repos)), complete: true}
	for _, repo := range repos {
		idx.names[strings.ToLower(repo.Name)] = true
	}
	return idx
}

// isLogin reports whether owner is the token's own login.
func isLogin(ctx context.Context, l loginer, owner string) bool {
	login, err := l.Login(ctx)
	return err == nil && strings.EqualFold(login, owner)
}
