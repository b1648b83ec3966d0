package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "switchd %s (%s, database schema %d)\n", server.Version, runtime.Version(), store.SchemaVersion())
		},
	}
}
