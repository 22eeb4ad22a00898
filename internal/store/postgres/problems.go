package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

// SetConfigProblem implements store.ConfigProblems; UpdatedAt is now.
func (s *Store) SetConfigProblem(ctx context.Context, p *store.ConfigProblem) error {
	errs, err := jsonList(p.Errors)
	if err != nil {
		return fmt.Errorf("error encoding the settings problems of %s: %w", p.Repo, err)
	}
	p.UpdatedAt = s.nowTime()
	_, err = s.pool.Exec(ctx, `
		INSERT INTO config_problems (github_repo_id, installation_id, repo, commit_sha, errors, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (github_repo_id) DO UPDATE SET
			installation_id = excluded.installation_id, repo = excluded.repo, commit_sha = excluded.commit_sha,
			errors = excluded.errors, updated_at = excluded.updated_at`,
		p.GitHubRepoID, p.InstallationID, p.Repo, p.CommitSHA, errs, p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("error storing the settings problems of %s: %w", p.Repo, classify(err))
	}
	return nil
}

// ClearConfigProblem implements store.ConfigProblems.
func (s *Store) ClearConfigProblem(ctx context.Context, githubRepoID int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM config_problems WHERE github_repo_id = $1`, githubRepoID); err != nil {
		return fmt.Errorf("error clearing the settings problems of repository %d: %w", githubRepoID, err)
	}
	return nil
}

// ConfigProblem implements store.ConfigProblems.
func (s *Store) ConfigProblem(ctx context.Context, githubRepoID int64) (*store.ConfigProblem, error) {
	p, err := scanProblem(s.pool.QueryRow(ctx, `
		SELECT github_repo_id, installation_id, repo, commit_sha, errors, updated_at
		FROM config_problems WHERE github_repo_id = $1`, githubRepoID))
	if err != nil {
		return nil, fmt.Errorf("error loading the settings problems of repository %d: %w", githubRepoID, noRows(err))
	}
	return p, nil
}

// ListConfigProblems implements store.ConfigProblems.
func (s *Store) ListConfigProblems(ctx context.Context, installationID int64) ([]*store.ConfigProblem, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT github_repo_id, installation_id, repo, commit_sha, errors, updated_at
		FROM config_problems WHERE $1 = 0 OR installation_id = $1 ORDER BY github_repo_id`, installationID)
	if err != nil {
		return nil, fmt.Errorf("error listing settings problems: %w", err)
	}
	defer rows.Close()
	var out []*store.ConfigProblem
	for rows.Next() {
		p, err := scanProblem(rows)
		if err != nil {
			return nil, fmt.Errorf("error listing settings problems: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("error listing settings problems: %w", err)
	}
	return out, nil
}

func scanProblem(row interface{ Scan(...any) error }) (*store.ConfigProblem, error) {
	var p store.ConfigProblem
	var errs []byte
	var updated time.Time
	if err := row.Scan(&p.GitHubRepoID, &p.InstallationID, &p.Repo, &p.CommitSHA, &errs, &updated); err != nil {
		return nil, err
	}
	var err error
	if p.Errors, err = parseList[store.ConfigError](errs); err != nil {
		return nil, fmt.Errorf("error decoding the settings problems of %s: %w", p.Repo, err)
	}
	p.UpdatedAt = updated.UTC()
	return &p, nil
}
