package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

// newParkedCmd lists the calls waiting in park slots.
func newParkedCmd(g *globalFlags) *cobra.Command {
	return liveList(g, "parked [--json]", "Calls waiting in park slots now: slot, call ID, caller, who parked it, since",
		"/api/v1/parked", "parked", "SLOT\tCALL\tCALLER\tPARKED BY\tSINCE", func(tw io.Writer, p web.ParkedCall) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Slot, p.CallID, dash(p.Caller), dash(p.ParkedBy), localTime(p.Since))
		})
}
