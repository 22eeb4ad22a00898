package sqlite

import (
	"context"
	"database/sql"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/gitee-mirror/gitee-mirror/internal/store/riverdb"
)

// Jobs is the job queue's database: this file, through River's SQLite
// driver on the store's one connection. One process uses the file, so the
// per-key lock is a mutex in memory.
func (s *Store) Jobs() *riverdb.DB[*sql.Tx] {
	s.jobsOnce.Do(func() {
		begin := func(ctx context.Context) (*sql.Tx, func(context.Context) error, func(context.Context) error, error) {
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				return nil, nil, nil, err
			}
			return tx, func(context.Context) error { return tx.Commit() }, func(context.Context) error { return tx.Rollback() }, nil
		}
		s.jobs = riverdb.New(riversqlite.New(s.db), begin, riverdb.ProcessLocker(), nil)
	})
	return s.jobs
}
