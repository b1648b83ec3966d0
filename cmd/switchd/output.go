package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// printList prints a command's result: v as indented JSON when asJSON,
// else a table — the header (tab-separated columns), then what rows
// writes, one tab-separated line per item.
func printList(out io.Writer, asJSON bool, v any, header string, rows func(w io.Writer)) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	return tw.Flush()
}
