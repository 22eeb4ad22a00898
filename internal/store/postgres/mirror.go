package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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
	now := s.nowTime()

	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO mirrors (
				installation_id, github_repo_id, a_owner, a_name,
				b_owner, b_name, direction, branches, tags, no_tags, force, prune,
				create_missing, visibility, config_source, config_sha,
				hook_id, hook_remote_id,
				paused, paused_reason, paused_by_failures, consecutive_failures, status,
				last_error, last_error_class, last_sync_at, request_seq, created_at, updated_at, a_site, b_site,
				releases, lfs
			) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
				$19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $28, $29, $30, $31, $32)
			RETURNING id`,
			m.InstallationID, m.GitHubRepoID, m.A.Owner, m.A.Name,
			m.B.Owner, m.B.Name, string(m.Direction), list(m.Branches), list(m.Tags), m.NoTags, m.Force, m.Prune,
			m.CreateMissing, m.Visibility, m.ConfigSource, m.ConfigSHA,
			hookID, m.HookRemoteID,
			m.Paused, m.PausedReason, m.PausedByFailures, m.ConsecutiveFailures, string(status),
			m.LastError, m.LastErrorClass, nullTime(m.LastSyncAt), m.RequestSeq, now,
			string(m.A.Site), string(m.B.Site),
			m.Releases, string(m.LFS),
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
		_, err = tx.Exec(ctx, `UPDATE mirrors SET hook_secret = $1 WHERE id = $2`, sealed, id)
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
	now := s.nowTime()
	tag, err := s.pool.Exec(ctx, `
		UPDATE mirrors SET
			b_owner = $1, b_name = $2, direction = $3, branches = $4, tags = $5,
			no_tags = $6, force = $7, prune = $8, create_missing = $9, visibility = $10,
			config_source = $11, config_sha = $12, updated_at = $13, b_site = $15,
			releases = $16, lfs = $17
		WHERE id = $14`,
		m.B.Owner, m.B.Name, string(m.Direction), list(m.Branches), list(m.Tags),
		m.NoTags, m.Force, m.Prune, m.CreateMissing, m.Visibility,
		m.ConfigSource, m.ConfigSHA, now, m.ID, string(m.B.Site), m.Releases, string(m.LFS))
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error updating mirror %d: %w", m.ID, classify(err))
	}
	m.UpdatedAt = now
	return nil
}

// GetMirror loads one mirror, its hook secret decrypted.
func (s *Store) GetMirror(ctx context.Context, id int64) (*store.Mirror, error) {
	m, err := s.queryMirror(ctx, `m.id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("error loading mirror %d: %w", id, err)
	}
	return m, nil
}

// GetMirrorByHookID loads the mirror a Gitee webhook URL names.
func (s *Store) GetMirrorByHookID(ctx context.Context, hookID string) (*store.Mirror, error) {
	m, err := s.queryMirror(ctx, `m.hook_id = $1`, hookID)
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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.InstallationID != 0 {
		conds = append(conds, "m.installation_id = "+arg(f.InstallationID))
	}
	if f.GitHubRepoID != 0 {
		conds = append(conds, "m.github_repo_id = "+arg(f.GitHubRepoID))
	}
	if f.ActiveOnly {
		conds = append(conds, "NOT m.paused", "NOT i.suspended")
	}
	where := "true"
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM mirrors WHERE id = $1`, id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("error deleting mirror %d: %w", id, err)
	}
	return nil
}

// RenameRepository records a GitHub rename or transfer for every mirror of
// the repository; none is not an error.
func (s *Store) RenameRepository(ctx context.Context, githubRepoID int64, owner, name string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE mirrors SET a_owner = $1, a_name = $2, updated_at = $3
		WHERE github_repo_id = $4`,
		owner, name, s.nowTime(), githubRepoID)
	if err != nil {
		return fmt.Errorf("error renaming repository %d to %s/%s: %w", githubRepoID, owner, name, err)
	}
	return nil
}
