// Package repoconfig reads a repository's own mirror settings, the file
// .github/gitee-mirror.yml on its default branch.
//
// The file holds either one mirror at the top level:
//
//	target: gitee/acme/widget   # or acme/widget
//	direction: push             # push (GitHub → Gitee, default), pull, or both (two-way)
//	branches: [main, "release/*"]
//	tags: "v*"                  # a list, a comma-separated string, or false for none
//	force: false                # overwrite diverged refs after a backup (not with both)
//	prune: true                 # delete refs the source no longer has
//	create-missing: true        # create the Gitee repository if absent
//	visibility: source          # private, public, or source (as on GitHub)
//	releases: false             # mirror published releases and their assets
//	lfs: false                  # copy Git LFS objects: true, false, or required
//
// or a list of them under mirrors:. Parsing is strict: an unknown key, a
// value of the wrong kind or an unknown word is an error naming the field,
// its line and what is allowed, never silently ignored.
package repoconfig
