package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gitee-mirror/gitee-mirror/internal/config"
)

// The image cannot be built in the tests (no registry to pull base images
// from); these tests hold the Dockerfile, .dockerignore, release.yml and the
// README to what the App's image needs.

// stage is one FROM … of a Dockerfile: its base, name and instructions
// (continuation lines joined), keyed by upper-case instruction.
type stage struct {
	from, name string
	lines      []instruction
}

type instruction struct{ op, args string }

func (s stage) all(op string) []string {
	var out []string
	for _, in := range s.lines {
		if in.op == op {
			out = append(out, in.args)
		}
	}
	return out
}

// parseDockerfile splits a Dockerfile into stages, without comments.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	for _, l := range logical {
		op, args, _ := strings.Cut(l, " ")
		op, args = strings.ToUpper(op), strings.TrimSpace(args)
		if op == "FROM" {
			f := strings.Fields(args)
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", op)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, instruction{op, args})
	}
	return stages
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerfileAppStage: an `app` stage that is static, non-root and keeps
// its data on a volume, while the Action's stage stays last (GitHub runs
// the final stage) and runs as root (GitHub's requirement).
func TestDockerfileAppStage(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	byName := map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	app, ok := byName["app"]
	if !ok {
		t.Fatalf("no stage named app in %+v", stages)
	}
	last := stages[len(stages)-1]
	if last.name == "app" || !slices.Equal(last.all("ENTRYPOINT"), []string{`["/gitee-mirror"]`}) || len(last.all("USER")) != 0 {
		t.Errorf("last stage = %+v, want the Action's: ENTRYPOINT /gitee-mirror, no USER", last)
	}

	// Non-root.
	users := app.all("USER")
	if len(users) != 1 || regexp.MustCompile(`^(0|root)(:|$)`).MatchString(users[0]) {
		t.Errorf("app stage USER = %v, want one non-root user", users)
	}
	// Data on a volume, where the App keeps it.
	if v := app.all("VOLUME"); len(v) != 1 || !strings.Contains(v[0], `"/data"`) {
		t.Errorf("app stage VOLUME = %v, want /data", v)
	}
	env := strings.Join(app.all("ENV"), " ")
	if !strings.Contains(env, config.EnvDataDir+"=/data") {
		t.Errorf("app stage ENV = %q, want %s=/data", env, config.EnvDataDir)
	}
	for _, name := range regexp.MustCompile(`GITEE_MIRROR_[A-Z_]+`).FindAllString(env, -1) {
		if !slices.Contains(config.KnownNames(), name) {
			t.Errorf("app stage sets %s, which the App does not read", name)
		}
	}
	if e := app.all("ENTRYPOINT"); len(e) != 1 {
		t.Fatalf("app stage ENTRYPOINT = %v", e)
	}
	bin := regexp.MustCompile(`"([^"]+)"`).FindStringSubmatch(app.all("ENTRYPOINT")[0])[1]
	// The binary comes from a stage that builds ./app statically; the base
	// has no C library.
	var built bool
	for _, cp := range app.all("COPY") {
		m := regexp.MustCompile(`--from=(\S+)\s+(\S+)\s+(\S+)`).FindStringSubmatch(cp)
		if m == nil || m[3] != bin {
			continue
		}
		for _, run := range byName[m[1]].all("RUN") {
			if strings.Contains(run, "CGO_ENABLED=0 go build") && strings.Contains(run, "-o "+m[2]+" ./app") {
				built = true
			}
		}
	}
	if !built {
		t.Errorf("app stage's %s is not copied from a stage that runs CGO_ENABLED=0 go build -o %s ./app", bin, bin)
	}
	if !strings.Contains(app.from, "distroless/static") {
		t.Errorf("app stage base = %s, want distroless/static (a static binary needs no more)", app.from)
	}
	// The App's directory must reach the build.
	if ig := readRepoFile(t, ".dockerignore"); !strings.Contains(ig, "\n!app\n") {
		t.Errorf(".dockerignore does not let app/ into the build:\n%s", ig)
	}
}

// TestReleasePublishesAppImage: release.yml builds the app stage and
// pushes it beside the Action's image.
func TestReleasePublishesAppImage(t *testing.T) {
	t.Parallel()
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, ".github/workflows/release.yml")), &wf); err != nil {
		t.Fatal(err)
	}
	var app, action bool
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if !strings.HasPrefix(s.Uses, "docker/build-push-action@") {
				continue
			}
			switch s.With["target"] {
			case "app":
				app = s.With["push"] == "true" && strings.Contains(s.With["tags"], "}}-app:") &&
					strings.Contains(s.With["platforms"], "linux/arm64")
			case "":
				action = s.With["push"] == "true"
			}
		}
	}
	if !app || !action {
		t.Errorf("release.yml publishes the App's image: %v, the Action's: %v; want both", app, action)
	}
}

// TestReadmeDockerRun: the README shows how to run the App's image, with
// the volume and the variables it cannot work without.
func TestReadmeDockerRun(t *testing.T) {
	t.Parallel()
	readme := readRepoFile(t, "README.md")
	i := strings.Index(readme, "docker run")
	if i < 0 {
		t.Fatal("README.md has no docker run")
	}
	// The fenced block around it.
	start := strings.LastIndex(readme[:i], "```")
	end := strings.Index(readme[i:], "```")
	if start < 0 || end < 0 {
		t.Fatal("README.md's docker run is not in a code block")
	}
	block := readme[start : i+end]
	for _, want := range []string{":/data", "-p 8080:8080", config.EnvSecretKey + "=", config.EnvPublicURL + "=", "-app:", "--env-file"} {
		if !strings.Contains(block, want) {
			t.Errorf("README's docker run lacks %q:\n%s", want, block)
		}
	}
}
