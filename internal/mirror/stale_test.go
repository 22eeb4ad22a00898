package mirror

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Temporary packs older than the age are removed; newer ones (a live
// sync's), other files and directories are not.
func TestRemoveStaleSpools(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	files := map[string]time.Duration{
		"relay-1.pack":    2 * time.Hour,
		"prefetch-1.pack": 2 * time.Hour,
		"relay-2.pack":    time.Minute, // a live sync's
		"prefetch-2.pack": time.Minute,
		"graph":           2 * time.Hour,
		"state.json":      2 * time.Hour,
	}
	for name, age := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "relay-dir.pack"), 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "relay-dir.pack")
	if err := os.Chtimes(old, now.Add(-2*time.Hour), now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	removeStaleSpools(dir, 40*time.Minute, now, slog.New(slog.DiscardHandler))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"graph", "prefetch-2.pack", "relay-2.pack", "relay-dir.pack", "state.json"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
