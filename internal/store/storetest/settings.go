package storetest

import (
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/store"
)

func testSettings(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		v, err := b.s.Setting(b.ctx, "public_url")
		wantErr(t, "Setting unset", err, store.ErrNotFound)
		if v != "" {
			t.Errorf("Setting unset = %q", v)
		}
		steps := []struct {
			value  string
			secret bool
		}{
			{"https://a.example", false},
			{"https://b.example", false},
			{"now-secret", true},
			{"another-secret", true},
			{"plain-again", false},
			{"", false},
		}
		for _, st := range steps {
			noErr(t, "SetSetting", b.s.SetSetting(b.ctx, "public_url", st.value, st.secret))
			got, err := b.s.Setting(b.ctx, "public_url")
			noErr(t, "Setting", err)
			if got != st.value {
				t.Errorf("after SetSetting(%q, secret %v): Setting = %q", st.value, st.secret, got)
			}
		}
		noErr(t, "SetSetting other", b.s.SetSetting(b.ctx, "other", "x", true))
		if got, _ := b.s.Setting(b.ctx, "public_url"); got != "" {
			t.Errorf("another key's SetSetting changed this one: %q", got)
		}
	})

	t.Run("NoKey", func(t *testing.T) {
		t.Parallel()
		b := &bundle{ctx: t.Context(), s: open(t, false)}
		wantErr(t, "SetSetting secret without a key", b.s.SetSetting(b.ctx, "k", "v", true), store.ErrNoKey)
		_, err := b.s.Setting(b.ctx, "k")
		wantErr(t, "Setting after a refused SetSetting", err, store.ErrNotFound)
		noErr(t, "SetSetting plain without a key", b.s.SetSetting(b.ctx, "k", "v", false))
		if got, err := b.s.Setting(b.ctx, "k"); err != nil || got != "v" {
			t.Errorf("Setting = %q, %v", got, err)
		}
	})
}
