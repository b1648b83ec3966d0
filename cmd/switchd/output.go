package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
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

// liveList is a command listing what the running switch has now: GET path
// through the API, the list under key of its JSON answer, printed as a
// table (header, then row per item) or with --json as JSON (an empty list
// is [], never null).
func liveList[T any](g *globalFlags, use, short, path, key, header string, row func(w io.Writer, item T)) *cobra.Command {
	var f apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out map[string]json.RawMessage
			if err := c.do("GET", path, nil, &out); err != nil {
				return err
			}
			items := []T{}
			if raw, ok := out[key]; ok && string(raw) != "null" {
				if err := json.Unmarshal(raw, &items); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			return printList(cmd.OutOrStdout(), asJSON, items, header, func(tw io.Writer) {
				for _, it := range items {
					row(tw, it)
				}
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
