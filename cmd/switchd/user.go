package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/web"
)

// API users are named tokens with a role (agent, supervisor, admin), kept
// in the database as hashes; the secret is shown once, when it is made.
// Like the extension commands these work on the database directly.
func newUserCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage API users (named tokens with a role: agent, supervisor, admin)"}
	var role string
	add := &cobra.Command{
		Use:   "add NAME --role ROLE",
		Short: "Create an API user (or give an existing one a new token) and print its token once",
		Example: `  switchd user add alice --role supervisor
  curl -H "Authorization: Bearer <token>" http://127.0.0.1:8080/api/v1/cdrs`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := store.ValidName(name); err != nil {
				return fmt.Errorf("user name %w", err)
			}
			if err := web.ValidRole(role); err != nil {
				return err
			}
			return withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				secret, err := store.NewTokenSecret()
				if err != nil {
					return err
				}
				if err := st.CreateToken(withContext(cmd), name, role, secret); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "user %s (%s): the token above is shown only now\n", name, role)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "agent, supervisor or admin")
	_ = add.MarkFlagRequired("role")
	list := &cobra.Command{
		Use:   "list",
		Short: "List API users and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				users, err := st.Tokens(withContext(cmd))
				if err != nil {
					return err
				}
				return printList(cmd.OutOrStdout(), false, nil, "USER\tROLE", func(tw io.Writer) {
					for _, u := range users {
						fmt.Fprintf(tw, "%s\t%s\n", u.Name, u.Role)
					}
				})
			})
		},
	}
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Delete an API user: its token stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				return st.RemoveToken(withContext(cmd), args[0])
			})
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}
