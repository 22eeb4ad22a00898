package bench

import (
	"os"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/pgtest"
)

// TestMain stops the Postgres cluster the replica benchmarks start
// (internal/pgtest), which loads pg_stat_statements so that they can count
// the App's queries.
func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_SETTINGS") == "" {
		os.Setenv("PGTEST_SETTINGS", "shared_preload_libraries=pg_stat_statements")
	}
	pgtest.Main(m)
}
