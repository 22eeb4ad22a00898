package sqlite

import (
	"context"
	"fmt"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// mirrorColumns is what scanMirror reads, from mirrors m joined with
// installations i.
const mirrorColumns = `
	m.id, m.installation_id, m.github_repo_id, m.a_site, m.a_owner, m.a_name,
	m.b_site, m.b_owner, m.b_name, m.direction, m.branches, m.tags, m.no_tags, m.force, m.prune,
	m.create_missing, m.visibility, m.releases, m.lfs, m.config_source, m.config_sha,
	m.hook_id, m.hook_secret, m.hook_remote_id,
	m.paused, m.paused_reason, m.paused_by_failures, m.consecutive_failures, m.status,
	m.last_error, m.last_error_class, m.last_sync_at, m.request_seq, m.created_at, m.updated_at, m.sync_started_at`

// queryMirrors loads the mirrors matching where, in id order, with their
// hook secrets decrypted.
func (s *Store) queryMirrors(ctx context.Context, where string, args ...any) ([]*store.Mirror, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+mirrorColumns+`
		FROM mirrors m JOIN installations i ON i.id = m.installation_id
		WHERE `+where+` ORDER BY m.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	type sealedMirror struct {
		m      *store.Mirror
		sealed []byte
	}
	var found []sealedMirror
	for rows.Next() {
		var (
			m                      store.Mirror
			direction, status      string
			siteA, siteB, lfs      string
			branches, tags         string
			sealed                 []byte
			lastSync, created, upd int64
			started                int64
		)
		err := rows.Scan(
			&m.ID, &m.InstallationID, &m.GitHubRepoID, &siteA, &m.A.Owner, &m.A.Name,
			&siteB, &m.B.Owner, &m.B.Name, &direction, &branches, &tags, &m.NoTags, &m.Force, &m.Prune,
			&m.CreateMissing, &m.Visibility, &m.Releases, &lfs, &m.ConfigSource, &m.ConfigSHA,
			&m.HookID, &sealed, &m.HookRemoteID,
			&m.Paused, &m.PausedReason, &m.PausedByFailures, &m.ConsecutiveFailures, &status,
			&m.LastError, &m.LastErrorClass, &lastSync, &m.RequestSeq, &created, &upd, &started)
		if err != nil {
			return nil, fmt.Errorf("error reading mirror row: %w", err)
		}
		m.Direction, m.Status = store.Direction(direction), store.Status(status)
		m.A.Site, m.B.Site, m.LFS = forge.Site(siteA), forge.Site(siteB), mirror.LFSMode(lfs)
		if m.Paused {
			// The column keeps the last sync's status for when it resumes.
			m.Status = store.StatusPaused
		}
		m.LastSyncAt, m.CreatedAt, m.UpdatedAt = fromNanos(lastSync), fromNanos(created), fromNanos(upd)
		m.SyncStartedAt = fromNanos(started)
		if m.Branches, err = parseList[string](branches); err != nil {
			return nil, fmt.Errorf("error decoding branch filters of mirror %d: %w", m.ID, err)
		}
		if m.Tags, err = parseList[string](tags); err != nil {
			return nil, fmt.Errorf("error decoding tag filters of mirror %d: %w", m.ID, err)
		}
		found = append(found, sealedMirror{&m, sealed})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}

	ms := make([]*store.Mirror, 0, len(found))
	for _, f := range found {
		if f.sealed != nil {
			secret, err := store.Unseal(s.box, f.sealed, store.HookSecretAD(f.m.ID))
			if err != nil {
				return nil, fmt.Errorf("error decrypting hook secret of mirror %d: %w", f.m.ID, err)
			}
			f.m.HookSecret = secret
		}
		ms = append(ms, f.m)
	}
	return ms, nil
}
