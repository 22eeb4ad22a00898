package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

// TestBoundsRefused: every duration and count has a floor and a ceiling;
// a value outside is refused with the variable's name and the range. (A
// reconcile interval of 1ns was accepted and queued 34 reconciles in 10 s.)
func TestBoundsRefused(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name, value string
		want        []string
	}{
		"reconcile 1ns":          {config.EnvReconcileInterval, "1ns", []string{"1m to 24h"}},
		"reconcile a week":       {config.EnvReconcileInterval, "168h", []string{"1m to 24h"}},
		"sync timeout 1s":        {config.EnvSyncTimeout, "1s", []string{"1m to 24h"}},
		"sync spacing negative":  {config.EnvSyncSpacing, "-1s", []string{"0s to 1m"}},
		"sync spacing an hour":   {config.EnvSyncSpacing, "1h", []string{"0s to 1m"}},
		"sync timeout a month":   {config.EnvSyncTimeout, "720h", []string{"1m to 24h"}},
		"shutdown 1ms":           {config.EnvShutdownTimeout, "1ms", []string{"1s to 10m"}},
		"shutdown an hour":       {config.EnvShutdownTimeout, "1h", []string{"1s to 10m"}},
		"max failures 0":         {config.EnvMaxFailures, "0", []string{"1 to 100"}},
		"max failures a million": {config.EnvMaxFailures, "1000000", []string{"1 to 100"}},
		"webhook body 10 bytes":  {config.EnvWebhookMaxBytes, "10", []string{"64KiB to 100MiB"}},
		"webhook body 1 TiB":     {config.EnvWebhookMaxBytes, "1024GiB", []string{"64KiB to 100MiB"}},
		"admin token 1 MB":       {config.EnvAdminToken, strings.Repeat("x", 1<<20), []string{"16 to 256 characters"}},
		"lease ttl 1s":           {config.EnvLeaseTTL, "1s", []string{"5s to 5m"}},
		"lease ttl a day":        {config.EnvLeaseTTL, "24h", []string{"5s to 5m"}},
		"lease renew 1ms":        {config.EnvLeaseRenew, "1ms", []string{"1s to 2m"}},
		"lease renew near ttl":   {config.EnvLeaseRenew, "20s", []string{"more than half of " + config.EnvLeaseTTL, "at most 15s"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{tc.name: tc.value}))
			if err == nil {
				t.Fatalf("Load(%s=%.20s) succeeded: %v", tc.name, tc.value, c)
			}
			for _, w := range append([]string{tc.name + ":"}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if len(err.Error()) > 300 {
				t.Errorf("error repeats the value: %d characters", len(err.Error()))
			}
		})
	}
}

// TestBoundsAccepted: the ends of every range are allowed.
func TestBoundsAccepted(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{
		config.EnvReconcileInterval: "1m", config.EnvSyncTimeout: "24h", config.EnvShutdownTimeout: "1s",
		config.EnvMaxFailures: "100", config.EnvWebhookMaxBytes: "64KiB",
		config.EnvLeaseTTL: "5m", config.EnvLeaseRenew: "2m", config.EnvSyncSpacing: "1m",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.ReconcileInterval != time.Minute || c.SyncTimeout != 24*time.Hour || c.ShutdownTimeout != time.Second ||
		c.MaxFailures != 100 || c.WebhookMaxBytes != 64<<10 || c.LeaseTTL != 5*time.Minute || c.LeaseRenew != 2*time.Minute ||
		c.SyncSpacing != time.Minute {
		t.Errorf("got %v", c)
	}
}

// TestSecretFileCapped: a _FILE naming something huge (a device, a log)
// is refused instead of read whole.
func TestSecretFileCapped(t *testing.T) {
	t.Parallel()
	big := writeFile(t, strings.Repeat("x", 1<<20))
	_, err := config.Load(env(map[string]string{config.EnvWebhookSecret + "_FILE": big}))
	if err == nil || !strings.Contains(err.Error(), config.EnvWebhookSecret+"_FILE") || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load = %v, want a refusal naming the _FILE variable and its size limit", err)
	}
}

// TestReadmeShowsDoc: the README's table is Doc's, so the ranges and
// variables it lists are the ones Load enforces.
func TestReadmeShowsDoc(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), config.Doc()) {
		t.Errorf("README.md lacks config.Doc()'s table; paste this over its table under Configuration:\n%s", config.Doc())
	}
}

// TestDocDefaultsAreDefaults: setting a variable to the default the
// README's table shows changes nothing, so the column cannot drift from
// what Load applies. (Defaults described in words, not values, are skipped.)
func TestDocDefaultsAreDefaults(t *testing.T) {
	t.Parallel()
	base, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Vars() {
		if v.Default == "" || strings.ContainsAny(v.Default, "<> ") {
			continue
		}
		c, err := config.Load(env(map[string]string{v.Name: v.Default}))
		if err != nil {
			t.Errorf("%s=%s (its documented default): %v", v.Name, v.Default, err)
			continue
		}
		if c.String() != base.String() {
			t.Errorf("%s=%s (its documented default) loads\n%s\nunset loads\n%s", v.Name, v.Default, c, base)
		}
	}
}
