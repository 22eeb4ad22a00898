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
		settings := "shared_preload_libraries=pg_stat_statements"
		if pgPlanning() {
			// Planning counted too: it costs Postgres time itself (every
			// execution updates the statement's entry once more), so only
			// when asked for.
			settings += " pg_stat_statements.track_planning=on"
		}
		os.Setenv("PGTEST_SETTINGS", settings)
	}
	pgtest.Main(m)
}

// pgPlanning reports whether GM_BENCH_PG_PLANNING=1 asks the Postgres
// benchmarks to count planning time and BenchmarkIntakeReplicas to print
// the database's first second of the load apart.
func pgPlanning() bool { return os.Getenv("GM_BENCH_PG_PLANNING") == "1" }
