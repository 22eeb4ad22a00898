// Package bench holds BenchmarkMirror, which times the sync core
// (internal/mirror) against the git CLI on a generated repository of
// 100,000+ objects served by the test forge. See README.md.
package bench
