package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
)

// Extensions live in the database; these commands work on it directly, so
// they work whether or not the switch runs. A running switch notices the
// change within a second (it watches the database) and drops the bindings
// of removed extensions.
func newExtensionCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "extension", Aliases: []string{"ext"}, Short: "Manage extensions (phone accounts)"}
	var name, password string
	add := &cobra.Command{
		Use:     "add NUMBER [--password PW] [--name NAME]",
		Short:   "Create an extension (password read from stdin when --password is not given)",
		Example: `  switchd extension add 1001 --password s3cret --name "Front desk"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := passwordArg(cmd, password)
			if err != nil {
				return err
			}
			return withAccounts(cmd, g, func(a *accounts.Service, _ *store.Store) error {
				if err := a.Add(withContext(cmd), args[0], name, pw); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "extension %s added\n", args[0])
				return nil
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&password, "password", "", "SIP password (only its digests are stored)")

	passwd := &cobra.Command{
		Use:   "passwd NUMBER [--password PW]",
		Short: "Set an extension's password (also re-keys it to the configured realm)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := passwordArg(cmd, password)
			if err != nil {
				return err
			}
			return withAccounts(cmd, g, func(a *accounts.Service, _ *store.Store) error {
				if err := a.SetPassword(withContext(cmd), args[0], pw); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password of extension %s changed\n", args[0])
				return nil
			})
		},
	}
	passwd.Flags().StringVar(&password, "password", "", "new SIP password")

	remove := &cobra.Command{
		Use:     "remove NUMBER",
		Aliases: []string{"rm", "delete"},
		Short:   "Delete an extension and its registrations",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(cmd, g, func(a *accounts.Service, _ *store.Store) error {
				if err := a.Remove(withContext(cmd), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "extension %s removed\n", args[0])
				return nil
			})
		},
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List extensions",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAccounts(cmd, g, func(a *accounts.Service, _ *store.Store) error {
				exts, err := a.List(withContext(cmd))
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tREALM\tCREATED")
				for _, e := range exts {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Number, e.Name, e.Realm, e.Created.Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(add, passwd, remove, list)
	return cmd
}

func withAccounts(cmd *cobra.Command, g *globalFlags, fn func(*accounts.Service, *store.Store) error) error {
	cfg, err := loadConfig(cmd, g.config)
	if err != nil {
		return err
	}
	st, err := store.Open(withContext(cmd), cfg.DBPath(), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(accounts.New(st, cfg.SIP.Realm), st)
}

func passwordArg(cmd *cobra.Command, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	fmt.Fprint(cmd.ErrOrStderr(), "password: ")
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password given (use --password or type it on stdin)")
	}
	return pw, nil
}
