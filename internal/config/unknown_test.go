package config_test

import (
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

// TestUnknownVariables: a misspelt GITEE_MIRROR_* variable would be
// ignored silently; it is reported with the closest known name.
func TestUnknownVariables(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		environ []string
		want    []config.Unknown
	}{
		"typo":        {[]string{"GITEE_MIRROR_RECONCILE_INTERVALL=1h"}, []config.Unknown{{Name: "GITEE_MIRROR_RECONCILE_INTERVAL" + "L", Closest: config.EnvReconcileInterval}}},
		"swapped":     {[]string{"GITEE_MIRROR_SECERT_KEY=x"}, []config.Unknown{{Name: "GITEE_MIRROR_SECERT_KEY", Closest: config.EnvSecretKey}}},
		"file suffix": {[]string{"GITEE_MIRROR_PRIVATE_KEY_FLIE=/k.pem"}, []config.Unknown{{Name: "GITEE_MIRROR_PRIVATE_KEY_FLIE", Closest: config.EnvPrivateKey + "_FILE"}}},
		"far off":     {[]string{"GITEE_MIRROR_COLOUR=blue"}, []config.Unknown{{Name: "GITEE_MIRROR_COLOUR"}}},
		"known ones": {[]string{"GITEE_MIRROR_APP_ID=1", "GITEE_MIRROR_SECRET_KEY_FILE=/k", "GITEE_MIRROR_ALLOW_HTTP=true",
			"HOME=/root", "GITEE_MIRRORX=1", "PATH=/bin"}, nil},
		"sorted": {[]string{"GITEE_MIRROR_LOG_LEVL=debug", "GITEE_MIRROR_DATA_DIRR=/d"}, []config.Unknown{
			{Name: "GITEE_MIRROR_DATA_DIRR", Closest: config.EnvDataDir}, {Name: "GITEE_MIRROR_LOG_LEVL", Closest: config.EnvLogLevel}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := config.UnknownVars(tc.environ)
			if len(got) != len(tc.want) {
				t.Fatalf("UnknownVars = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("UnknownVars[%d] = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
