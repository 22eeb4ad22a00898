package config

import (
	"strings"
)

// Doc renders the variables as a Markdown table, for the README.
func Doc() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Meaning |\n|---|---|---|\n")
	for _, v := range Vars() {
		name := "`" + v.Name + "`"
		if v.File {
			name += " or `" + v.Name + "_FILE`"
		}
		def := v.Default
		if def != "" {
			def = "`" + def + "`"
		}
		doc := v.Doc
		if v.Allowed != "" {
			doc += " Allowed: " + v.Allowed + "."
		}
		if v.Secret {
			doc += " Secret: never printed."
		}
		b.WriteString("| " + name + " | " + def + " | " + strings.ReplaceAll(doc, "|", `\|`) + " |\n")
	}
	return b.String()
}
