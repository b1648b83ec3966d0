package main

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

func newVoicemailCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "voicemail", Short: "Voicemail messages left in IVR flows"}
	var f apiFlags
	var asJSON bool
	var box string
	list := &cobra.Command{
		Use:   "list",
		Short: "List messages, newest first (through the running switch)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out struct {
				Voicemails []web.Voicemail `json:"voicemails"`
			}
			path := "/api/v1/voicemails"
			if box != "" {
				path += "?box=" + url.QueryEscape(box)
			}
			if err := c.do("GET", path, nil, &out); err != nil {
				return err
			}
			return printList(cmd.OutOrStdout(), asJSON, out.Voicemails, "AT\tBOX\tCALLER\tDURATION\tFILE\tCALL ID", func(tw io.Writer) {
				for _, v := range out.Voicemails {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.At.Local().Format("2006-01-02 15:04:05"), v.Box, v.Caller,
						(time.Duration(v.DurationMS) * time.Millisecond).Round(100*time.Millisecond), v.File, v.CallID)
				}
			})
		},
	}
	f.register(list)
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	list.Flags().StringVar(&box, "box", "", "only this mailbox")
	cmd.AddCommand(list)
	return cmd
}
