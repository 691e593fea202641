package main

import (
	"encoding/json"
	"io"
)

// jsonSchemaVersion is the version of the documented --json output
// (docs/json-schema.md). Bump it on any change a consumer could notice.
const jsonSchemaVersion = 1

// writeJSON prints v as indented JSON: the one place --json output is made.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
