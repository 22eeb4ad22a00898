package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/forge"
	"github.com/gitee-mirror/gitee-mirror/internal/mirror"
	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// mirrorColumns is what queryMirrors reads, from mirrors m joined with
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
	rows, err := s.pool.Query(ctx, `SELECT `+mirrorColumns+`
		FROM mirrors m JOIN installations i ON i.id = m.installation_id
		WHERE `+where+` ORDER BY m.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var ms []*store.Mirror
	for rows.Next() {
		var (
			m                 store.Mirror
			direction, status string
			siteA, siteB, lfs string
			sealed            []byte
			lastSync, started *time.Time
		)
		err := rows.Scan(
			&m.ID, &m.InstallationID, &m.GitHubRepoID, &siteA, &m.A.Owner, &m.A.Name,
			&siteB, &m.B.Owner, &m.B.Name, &direction, &m.Branches, &m.Tags, &m.NoTags, &m.Force, &m.Prune,
			&m.CreateMissing, &m.Visibility, &m.Releases, &lfs, &m.ConfigSource, &m.ConfigSHA,
			&m.HookID, &sealed, &m.HookRemoteID,
			&m.Paused, &m.PausedReason, &m.PausedByFailures, &m.ConsecutiveFailures, &status,
			&m.LastError, &m.LastErrorClass, &lastSync, &m.RequestSeq, &m.CreatedAt, &m.UpdatedAt, &started)
		if err != nil {
			return nil, fmt.Errorf("error reading mirror row: %w", err)
		}
		m.Direction, m.Status = store.Direction(direction), store.Status(status)
		m.A.Site, m.B.Site, m.LFS = forge.Site(siteA), forge.Site(siteB), mirror.LFSMode(lfs)
		if m.Paused {
			// The column keeps the last sync's status for when it resumes.
			m.Status = store.StatusPaused
		}
		m.Branches, m.Tags = fromList(m.Branches), fromList(m.Tags)
		m.LastSyncAt, m.CreatedAt, m.UpdatedAt = fromNull(lastSync), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
		m.SyncStartedAt = fromNull(started)
		if sealed != nil {
			if m.HookSecret, err = store.Unseal(s.box, sealed, store.HookSecretAD(m.ID)); err != nil {
				return nil, fmt.Errorf("error decrypting hook secret of mirror %d: %w", m.ID, err)
			}
		}
		ms = append(ms, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ms, nil
}
