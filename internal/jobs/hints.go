package jobs

import "context"

type hintsKey struct{}

// withHints passes a sync job's hints (SyncArgs.Hints) to the Runner.
func withHints(ctx context.Context, hints map[string]string) context.Context {
	if len(hints) == 0 {
		return ctx
	}
	return context.WithValue(ctx, hintsKey{}, hints)
}

// hintsFrom returns the hints withHints passed, or nil.
func hintsFrom(ctx context.Context) map[string]string {
	h, _ := ctx.Value(hintsKey{}).(map[string]string)
	return h
}
