package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

func newTrunksCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trunks",
		Short: "List carrier trunks of the running switch: registration state and calls in progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out struct {
				Trunks []web.Trunk `json:"trunks"`
			}
			if err := c.do("GET", "/api/v1/trunks", nil, &out); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out.Trunks)
			}
			now := time.Now()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TRUNK\tADDRESS\tTRANSPORT\tCHANNELS\tREGISTRATION\tLAST ERROR")
			for _, t := range out.Trunks {
				channels := fmt.Sprint(t.Channels)
				if t.MaxChannels > 0 {
					channels += fmt.Sprintf("/%d", t.MaxChannels)
				}
				reg := t.Registration
				switch {
				case reg == "":
					reg = "-"
				case !t.RegisteredUntil.IsZero() && t.RegisteredUntil.After(now):
					reg += " (expires in " + t.RegisteredUntil.Sub(now).Round(time.Second).String() + ")"
				}
				if t.RegisterFailures > 0 {
					reg += fmt.Sprintf(", %d failed attempt(s)", t.RegisterFailures)
				}
				lastErr := t.LastError
				if lastErr == "" {
					lastErr = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Address, t.Transport, channels, reg, lastErr)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
