package main

import (
	"fmt"
	"io"
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
			now := time.Now()
			return printList(cmd.OutOrStdout(), asJSON, out.Trunks, "TRUNK\tADDRESS\tTRANSPORT\tCHANNELS\tREGISTRATION\tLAST ERROR", func(tw io.Writer) {
				for _, t := range out.Trunks {
					channels := fmt.Sprint(t.Channels)
					if t.MaxChannels > 0 {
						channels += fmt.Sprintf("/%d", t.MaxChannels)
					}
					reg := dash(t.Registration)
					switch {
					case !t.RegisteredUntil.IsZero() && t.RegisteredUntil.After(now):
						reg += " (expires in " + t.RegisteredUntil.Sub(now).Round(time.Second).String() + ")"
					}
					if t.RegisterFailures > 0 {
						reg += fmt.Sprintf(", %d failed attempt(s)", t.RegisterFailures)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Address, t.Transport, channels, reg, dash(t.LastError))
				}
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
