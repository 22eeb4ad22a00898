package mirror

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// spool copies a pack from the source to a temporary file in the
// background and hands out a reader that follows the file as it grows. The
// push can then start while the fetch still runs, and the source's stream
// is drained at its own pace even while the sync waits for ancestry answers
// or for another leg: a stream left unread might be cut by the server.
type spool struct {
	f    *os.File
	src  io.Reader
	stop io.Closer // ends src
	done chan struct{}

	mu   sync.Mutex
	grew *sync.Cond
	n    int64 // bytes in the file
	end  bool
	err  error // why the copy ended early; nil at the pack's end
}

// startSpool starts copying src into a new temporary file in dir ("" for
// the system's); closing stop makes src's reads fail.
func startSpool(dir string, src io.Reader, stop io.Closer) (*spool, error) {
	f, err := os.CreateTemp(dir, "relay-*.pack")
	if err != nil {
		return nil, fmt.Errorf("error creating temporary pack file: %w", err)
	}
	s := &spool{f: f, src: src, stop: stop, done: make(chan struct{})}
	s.grew = sync.NewCond(&s.mu)
	go s.copy()
	return s, nil
}

func (s *spool) copy() {
	defer close(s.done)
	buf := make([]byte, 256<<10)
	for {
		n, rerr := s.src.Read(buf)
		var werr error
		if n > 0 {
			_, werr = s.f.Write(buf[:n])
		}
		s.mu.Lock()
		if werr == nil {
			s.n += int64(n)
		}
		switch {
		case werr != nil:
			s.end, s.err = true, fmt.Errorf("error writing temporary pack file: %w", werr)
		case rerr == io.EOF:
			s.end = true
		case rerr != nil:
			s.end, s.err = true, rerr
		}
		end := s.end
		s.grew.Broadcast()
		s.mu.Unlock()
		if end {
			return
		}
	}
}

// reader reads the pack from its start, waiting for the copy where it has
// not got yet; it ends with the copy's error if the copy failed.
func (s *spool) reader() io.Reader { return &spoolReader{s: s} }

type spoolReader struct {
	s   *spool
	off int64
}

func (r *spoolReader) Read(b []byte) (int, error) {
	s := r.s
	s.mu.Lock()
	for r.off >= s.n && !s.end {
		s.grew.Wait()
	}
	avail, end, err := s.n-r.off, s.end, s.err
	s.mu.Unlock()
	if avail <= 0 && end {
		if err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if len(b) == 0 {
		return 0, nil
	}
	n, rerr := s.f.ReadAt(b[:min(int64(len(b)), avail)], r.off)
	r.off += int64(n)
	if rerr == io.EOF && n > 0 {
		rerr = nil
	}
	if rerr != nil {
		return n, fmt.Errorf("error rereading temporary pack file: %w", rerr)
	}
	return n, nil
}

// close stops the copy if it still runs and removes the file.
func (s *spool) close() {
	s.stop.Close()
	<-s.done
	name := s.f.Name()
	s.f.Close()
	os.Remove(name)
}
