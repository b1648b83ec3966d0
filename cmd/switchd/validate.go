package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/server"
)

func newValidateCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration (and the database it points at) without starting anything",
		Long: "validate runs exactly the load path of serve without opening sockets and prints\n" +
			"every problem as file:line: message. It exits 2 when any problem is an error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, problems, err := server.Check(withContext(cmd), g.config)
			if err != nil {
				return err
			}
			failed := false
			for _, p := range problems {
				fmt.Fprintln(cmd.ErrOrStderr(), p.Error())
				failed = failed || !p.Warning
			}
			if failed {
				return exitError{code: 2}
			}
			name := g.config
			if name == "" {
				name = "built-in default configuration"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", name)
			return nil
		},
	}
}
