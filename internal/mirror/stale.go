package mirror

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// spoolPatterns name the temporary packs a sync writes into its cache
// directory (prepare's and a follower's relay-*, a hinted sync's
// prefetch-*). A sync removes its own; a process killed mid-sync leaves
// them behind.
var spoolPatterns = []string{"relay-*.pack", "prefetch-*.pack"}

// removeStaleSpools deletes temporary packs in dir older than age: left
// by a process that died, since a live sync of the same pair cannot have
// been running longer than its timeout, which age exceeds.
func removeStaleSpools(dir string, age time.Duration, now time.Time, log *slog.Logger) {
	for _, pat := range spoolPatterns {
		names, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, name := range names {
			fi, err := os.Lstat(name)
			if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < age {
				continue
			}
			if err := os.Remove(name); err != nil {
				log.Warn("could not remove a temporary pack left by an earlier sync", slog.String("file", name), slog.Any("error", err))
				continue
			}
			log.Info("removed a temporary pack left by an earlier sync", slog.String("file", filepath.Base(name)), slog.Int64("bytes", fi.Size()))
		}
	}
}
