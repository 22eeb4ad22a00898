package mirror

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// fileState keeps the last-synced state as JSON in the cache directory.
type fileState struct{ path string }

func (f fileState) Load() (map[string]string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("error reading sync state: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("error reading sync state %s: %w", f.path, err)
	}
	return m, nil
}

func (f fileState) Save(m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("error encoding sync state: %w", err)
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("error writing sync state: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("error writing sync state: %w", err)
	}
	return nil
}

// cacheDirFor returns the directory under cacheDir for one source/target
// pair, named by a hash of the two credential-free URLs.
func cacheDirFor(cacheDir string, src, dst string) (string, error) {
	sum := sha256.Sum256([]byte(src + "\x00" + dst))
	dir := filepath.Join(cacheDir, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("error creating cache directory: %w", err)
	}
	return dir, nil
}
