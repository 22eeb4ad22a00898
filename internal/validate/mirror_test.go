package validate_test

import (
	"strings"
	"testing"

	"github.com/gitee-mirror/gitee-mirror/internal/validate"
)

func TestForce(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		twoWay, force bool
		wantErr       bool
	}{
		"one-way":       {false, false, false},
		"one-way force": {false, true, false},
		"two-way":       {true, false, false},
		"two-way force": {true, true, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := validate.Force(tc.twoWay, tc.force)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Force(%v, %v) = %v, want error %v", tc.twoWay, tc.force, err, tc.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "direction both") || !strings.Contains(err.Error(), "conflict")) {
				t.Errorf("error %q does not say why", err)
			}
		})
	}
}

func TestLFS(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in, want string
		wantErr  bool
	}{
		"true":     {"true", validate.LFSCopy, false},
		"True":     {" True ", validate.LFSCopy, false},
		"copy":     {"copy", validate.LFSCopy, false},
		"false":    {"false", validate.LFSOff, false},
		"empty":    {"", validate.LFSOff, false},
		"required": {"required", validate.LFSRequired, false},
		"maybe":    {"maybe", "", true},
		"yes":      {"yes", "", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := validate.LFS(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("LFS(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "required") || !strings.Contains(err.Error(), `"`+tc.in+`"`)) {
				t.Errorf("error %q does not name the value and the choices", err)
			}
		})
	}
}
