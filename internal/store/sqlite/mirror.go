package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// newHookID returns 24 random bytes, base64url: 32 characters that name a
// mirror in its Gitee webhook URL.
func newHookID() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("error generating hook id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// CreateMirror inserts m and sets m.ID, m.HookID (if empty), m.Status (new,
// if empty) and its times. A HookSecret needs a key (store.ErrNoKey).
func (s *Store) CreateMirror(ctx context.Context, m *store.Mirror) error {
	m.DefaultSites()
	if m.HookSecret != "" && s.box == nil {
		return fmt.Errorf("error creating mirror of %s: hook secret: %w", m.A.FullName(), store.ErrNoKey)
	}
	hookID := m.HookID
	if hookID == "" {
		var err error
		if hookID, err = newHookID(); err != nil {
			return err
		}
	}
	status := m.Status
	if status == "" {
		status = store.StatusNew
	}
	branches, err := jsonList(m.Branches)
	if err != nil {
		return fmt.Errorf("error encoding branch filters: %w", err)
	}
	tags, err := jsonList(m.Tags)
	if err != nil {
		return fmt.Errorf("error encoding tag filters: %w", err)
	}
	now := s.nowTime()

	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO mirrors (
				installation_id, github_repo_id, a_site, a_owner, a_name,
				b_site, b_owner, b_name, direction, branches, tags, no_tags, force, prune,
				create_missing, visibility, releases, lfs, config_source, config_sha,
				hook_id, hook_remote_id,
				paused, paused_reason, paused_by_failures, consecutive_failures, status,
				last_error, last_error_class, last_sync_at, request_seq, created_at, updated_at
			) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING id`,
			m.InstallationID, m.GitHubRepoID, string(m.A.Site), m.A.Owner, m.A.Name,
			string(m.B.Site), m.B.Owner, m.B.Name, string(m.Direction), branches, tags, m.NoTags, m.Force, m.Prune,
			m.CreateMissing, m.Visibility, m.Releases, string(m.LFS), m.ConfigSource, m.ConfigSHA,
			hookID, m.HookRemoteID,
			m.Paused, m.PausedReason, m.PausedByFailures, m.ConsecutiveFailures, string(status),
			m.LastError, m.LastErrorClass, nanos(m.LastSyncAt), m.RequestSeq, nanos(now), nanos(now),
		).Scan(&id)
		if err != nil {
			return classify(err)
		}
		if m.HookSecret == "" {
			return nil
		}
		// The id binds the ciphertext to the row, so it is sealed after
		// the insert, in the same transaction.
		sealed, err := store.Seal(s.box, m.HookSecret, store.HookSecretAD(id))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mirrors SET hook_secret = ? WHERE id = ?`, sealed, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("error creating mirror of %s to %s: %w", m.A.FullName(), m.B.FullName(), err)
	}
	m.ID, m.HookID, m.Status = id, hookID, status
	m.CreatedAt, m.UpdatedAt = now, now
	return nil
}

// UpdateMirrorSettings saves the settings fields of m (target, direction,
// filters, force, prune, create-missing, visibility, releases, LFS, config
// source and sha)
// and sets m.UpdatedAt.
func (s *Store) UpdateMirrorSettings(ctx context.Context, m *store.Mirror) error {
	m.DefaultSites()
	branches, err := jsonList(m.Branches)
	if err != nil {
		return fmt.Errorf("error encoding branch filters: %w", err)
	}
	tags, err := jsonList(m.Tags)
	if err != nil {
		return fmt.Errorf("error encoding tag filters: %w", err)
	}
	now := s.nowTime()
	res, err := s.db.ExecContext(ctx, `
		UPDATE mirrors SET
			b_site = ?, b_owner = ?, b_name = ?, direction = ?, branches = ?, tags = ?,
			no_tags = ?, force = ?, prune = ?, create_missing = ?, visibility = ?,
			releases = ?, lfs = ?, config_source = ?, config_sha = ?, updated_at = ?
		WHERE id = ?`,
		string(m.B.Site), m.B.Owner, m.B.Name, string(m.Direction), branches, tags,
		m.NoTags, m.Force, m.Prune, m.CreateMissing, m.Visibility,
		m.Releases, string(m.LFS), m.ConfigSource, m.ConfigSHA, nanos(now), m.ID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("error updating mirror %d: %w", m.ID, classify(err))
	}
	m.UpdatedAt = now
	return nil
}

// GetMirror loads one mirror, its hook secret decrypted.
func (s *Store) GetMirror(ctx context.Context, id int64) (*store.Mirror, error) {
	m, err := s.queryMirror(ctx, `m.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("error loading mirror %d: %w", id, err)
	}
	return m, nil
}

// GetMirrorByHookID loads the mirror a Gitee webhook URL names.
func (s *Store) GetMirrorByHookID(ctx context.Context, hookID string) (*store.Mirror, error) {
	m, err := s.queryMirror(ctx, `m.hook_id = ?`, hookID)
	if err != nil {
		// The hook id is not a secret, but it comes from a URL: not echoed.
		return nil, fmt.Errorf("error loading mirror by hook id: %w", err)
	}
	return m, nil
}

func (s *Store) queryMirror(ctx context.Context, where string, arg any) (*store.Mirror, error) {
	ms, err := s.queryMirrors(ctx, where, arg)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, store.ErrNotFound
	}
	return ms[0], nil
}

// ListMirrors returns the mirrors f selects, in id order.
func (s *Store) ListMirrors(ctx context.Context, f store.MirrorFilter) ([]*store.Mirror, error) {
	var conds []string
	var args []any
	if f.InstallationID != 0 {
		conds, args = append(conds, "m.installation_id = ?"), append(args, f.InstallationID)
	}
	if f.GitHubRepoID != 0 {
		conds, args = append(conds, "m.github_repo_id = ?"), append(args, f.GitHubRepoID)
	}
	if f.ActiveOnly {
		conds = append(conds, "m.paused = 0", "i.suspended = 0")
	}
	where := "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	ms, err := s.queryMirrors(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("error listing mirrors: %w", err)
	}
	return ms, nil
}

// DeleteMirror removes a mirror with its runs, ref state and own
// credential.
func (s *Store) DeleteMirror(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mirrors WHERE id = ?`, id)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("error deleting mirror %d: %w", id, err)
	}
	return nil
}

// RenameRepository records a GitHub rename or transfer for every mirror of
// the repository; none is not an error.
func (s *Store) RenameRepository(ctx context.Context, githubRepoID int64, owner, name string) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE mirrors SET a_owner = ?, a_name = ?, updated_at = ?
		WHERE github_repo_id = ?`,
		owner, name, nanos(s.nowTime()), githubRepoID)
	if err != nil {
		return fmt.Errorf("error renaming repository %d to %s/%s: %w", githubRepoID, owner, name, err)
	}
	return nil
}
