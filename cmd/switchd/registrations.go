package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

func newRegistrationsCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	var asJSON bool
	var aor string
	cmd := &cobra.Command{
		Use:     "registrations",
		Aliases: []string{"regs"},
		Short:   "List current registrations (bindings) of the running switch",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out struct {
				Registrations []web.Registration `json:"registrations"`
			}
			path := "/api/v1/registrations"
			if aor != "" {
				path += "?aor=" + aor
			}
			if err := c.do("GET", path, nil, &out); err != nil {
				return err
			}
			return printList(cmd.OutOrStdout(), asJSON, out.Registrations, "AOR\tCONTACT\tSOURCE\tTRANSPORT\tEXPIRES IN\tSTATUS\tUSER AGENT", func(tw io.Writer) {
				for _, r := range out.Registrations {
					status := r.Reachable
					if r.RTTMillis > 0 {
						status += fmt.Sprintf(" (%.0f ms)", r.RTTMillis)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.AOR, r.Contact, r.Source, r.Transport,
						(time.Duration(r.ExpiresIn) * time.Second).String(), status, r.UserAgent)
				}
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&aor, "aor", "", "only this extension")
	return cmd
}

func newBansCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "bans",
		Short: "List sources banned for repeated authentication failures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out struct {
				Bans []web.Ban `json:"bans"`
			}
			if err := c.do("GET", "/api/v1/bans", nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tBANNED UNTIL")
			for _, b := range out.Bans {
				fmt.Fprintf(tw, "%s\t%s\n", b.Source, b.Until.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	var uf apiFlags
	unban := &cobra.Command{
		Use:   "unban IP",
		Short: "Lift the ban of a source address",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &uf)
			if err != nil {
				return err
			}
			if err := c.do("DELETE", "/api/v1/bans/"+args[0], nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s unbanned\n", args[0])
			return nil
		},
	}
	uf.register(unban)
	cmd.AddCommand(unban)
	return cmd
}
