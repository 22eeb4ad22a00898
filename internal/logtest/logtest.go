// Package logtest holds test helpers for captured logs.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a log sink safe for concurrent writes: servers, workers and
// the test read and write it at once.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
