// Command switchd is a telephony-first contact-centre softswitch: SIP
// registrar and B2BUA, media, IVR and ACD in one binary.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "switchd:", err)
		os.Exit(1)
	}
}

type globalFlags struct {
	config string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "switchd",
		Short:         "switchd — contact-centre softswitch (SIP registrar, B2BUA, media, IVR, ACD)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.config, "config", "c", "", "configuration file (default: built-in defaults, data in ./switchd-data)")
	root.AddCommand(
		newServeCmd(g),
		newValidateCmd(g),
		newExtensionCmd(g),
		newRegistrationsCmd(g),
		newBansCmd(g),
		newCDRCmd(g),
		newTrunksCmd(g),
		newVoicemailCmd(g),
		newUserCmd(g),
		newAgentCmd(g),
		newQueueCmd(g),
		newRecordingsCmd(g),
		newConferenceCmd(g),
		newMonitorCmd(g),
		newParkedCmd(g),
		newVersionCmd(),
	)
	return root
}
