package storetest

import (
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testProgress(t *testing.T, open Opener) {
	b := setup(t, open)
	b.installation(t, 1)
	m := b.mirror(t, newMirror(1, 10, "y"))
	started := time.Now().Add(-10 * time.Second).UTC().Truncate(time.Millisecond)
	p := &store.SyncProgress{MirrorID: m.ID, Phase: "sending", Objects: 1200, Received: 10 << 20, Sent: 8 << 20,
		Remote: "Compressing objects:  45% (9/20)", StartedAt: started}
	noErr(t, "SetProgress", b.s.SetProgress(b.ctx, p))
	if p.UpdatedAt.Before(started) {
		t.Errorf("SetProgress set UpdatedAt %v, before the start %v", p.UpdatedAt, started)
	}
	got, err := b.s.Progress(b.ctx, m.ID)
	if err != nil || got.Phase != "sending" || got.Objects != 1200 || got.Received != 10<<20 || got.Sent != 8<<20 ||
		got.Remote != p.Remote || !got.StartedAt.Equal(started) || !got.UpdatedAt.Equal(p.UpdatedAt) {
		t.Errorf("Progress = %+v, %v; want %+v", got, err, p)
	}
	if got.Elapsed() < 10*time.Second || got.Rate() <= 0 {
		t.Errorf("Elapsed %v, Rate %v", got.Elapsed(), got.Rate())
	}
	p.Sent = 9 << 20
	noErr(t, "SetProgress again", b.s.SetProgress(b.ctx, p))
	if got, err := b.s.Progress(b.ctx, m.ID); err != nil || got.Sent != 9<<20 {
		t.Errorf("Progress after an update = %+v, %v", got, err)
	}
	wantErr(t, "SetProgress of an unknown mirror", b.s.SetProgress(b.ctx, &store.SyncProgress{MirrorID: m.ID + 100, StartedAt: started}), store.ErrNotFound)
	noErr(t, "ClearProgress", b.s.ClearProgress(b.ctx, m.ID))
	noErr(t, "ClearProgress twice", b.s.ClearProgress(b.ctx, m.ID))
	_, err = b.s.Progress(b.ctx, m.ID)
	wantErr(t, "Progress after clearing", err, store.ErrNotFound)
	// A deleted mirror's progress goes with it.
	noErr(t, "SetProgress", b.s.SetProgress(b.ctx, p))
	noErr(t, "DeleteMirror", b.s.DeleteMirror(b.ctx, m.ID))
	_, err = b.s.Progress(b.ctx, m.ID)
	wantErr(t, "Progress of a deleted mirror", err, store.ErrNotFound)
}
