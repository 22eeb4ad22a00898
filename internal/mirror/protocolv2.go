package mirror

import (
	"context"
	"log/slog"

	"github.com/gitee-mirror/gitee-mirror/internal/failure"
)

// preferV2 makes one request to the source in Git's protocol version 2
// (v2), or in version 0 (v0) when the source refused version 2 lately
// (capCache.refusedV2); usedV0 says which answered. A version 2 request
// that fails, unless the sync was cancelled, is made again at once in
// version 0, and if that works, v2Failed records why version 2 did not.
// If version 0 fails too, its error is the one returned: the server's
// refusal of the request everyone speaks says what to do.
func preferV2[T any](ctx context.Context, s *syncer, command string, v2, v0 func() (T, error)) (res T, usedV0 bool, err error) {
	if s.caps.refusedV2(s.src) {
		res, err = v0()
		return res, true, err
	}
	res, v2Err := v2()
	if v2Err == nil || ctx.Err() != nil {
		return res, false, v2Err
	}
	if res, err = v0(); err != nil {
		return res, true, err
	}
	s.v2Failed(command, v2Err)
	return res, true, nil
}

// v2Failed records that the source failed a protocol version 2 request
// (command) with err, which the same request in version 0 then did not.
// Unless err is transient (an HTTP 5xx, a dropped connection), the source
// is taken not to speak version 2, and that is remembered for a day
// (capCache.refuseV2): git without version 2 answers nothing (errNotV2),
// other servers an ERR line (JGit) or an HTTP error, which cannot be told
// from their other refusals, and a source that answers version 2 that
// way must neither stop syncing nor pay for the refusal on every sync.
func (s *syncer) v2Failed(command string, err error) {
	if failure.IsTransient(err) {
		s.log.Info("the source failed a protocol version 2 "+command+", but not in version 0; trying version 2 again next time", slog.Any("error", err))
		return
	}
	s.log.Info("the source did not answer a protocol version 2 "+command+", but did in version 0; using version 0 for a day", slog.Any("error", err))
	s.caps.refuseV2(s.src)
}
