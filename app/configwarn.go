package main

import (
	"log/slog"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

// warnConfig logs what in the configuration works but needs a person's
// eye: GITEE_MIRROR_* variables the App does not read (a typo's value is
// otherwise ignored silently), and site URLs allowed to be plain http.
func warnConfig(cfg *config.Config, environ func() []string, log *slog.Logger) {
	if environ != nil {
		for _, u := range config.UnknownVars(environ()) {
			if u.Closest != "" {
				log.Warn("unknown variable ignored: did you mean "+u.Closest+"?", "variable", u.Name, "closest", u.Closest)
				continue
			}
			log.Warn("unknown variable ignored: the README's Configuration section lists the known ones", "variable", u.Name)
		}
	}
	if names := cfg.PlainHTTP(); len(names) > 0 {
		log.Warn("plain http allowed by "+config.EnvAllowHTTP+": tokens sent to these hosts cross the network unencrypted; use https:// outside tests and local forges",
			"variables", names)
	}
}
