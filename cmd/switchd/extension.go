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
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
)

// Extensions live in the database; these commands work on it directly, so
// they work whether or not the switch runs. A running switch notices the
// change within a second (it watches the database) and drops the bindings
// of removed extensions.
func newExtensionCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "extension", Aliases: []string{"ext"}, Short: "Manage extensions (phone accounts)"}
	var name, password string
	var routing server.ExtensionRouting
	add := &cobra.Command{
		Use:   "add NUMBER [--password PW] [--name NAME] [--class CLASS] [--caller-id +E164] [--privacy]",
		Short: "Create an extension (password read from stdin when --password is not given)",
		Example: `  switchd extension add 1001 --password s3cret --name "Front desk"
  switchd extension add 1002 --class international --caller-id +862155550102 --privacy`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRoutingFlags(&routing.Class, &routing.CallerID); err != nil {
				return err
			}
			pw, err := passwordArg(cmd, password)
			if err != nil {
				return err
			}
			return withAccounts(cmd, g, func(a *accounts.Service, _ *store.Store) error {
				if err := server.AddExtension(withContext(cmd), a, args[0], name, pw, routing); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "extension %s added\n", args[0])
				return nil
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&password, "password", "", "SIP password (only its digests are stored)")
	add.Flags().StringVar(&routing.Class, "class", store.ClassNational, classUsage)
	add.Flags().StringVar(&routing.CallerID, "caller-id", "", callerIDUsage)
	add.Flags().BoolVar(&routing.Privacy, "privacy", false, privacyUsage)

	var setClass, setCallerID string
	var setPrivacy bool
	set := &cobra.Command{
		Use:   "set NUMBER [--class CLASS] [--caller-id +E164] [--privacy=true|false]",
		Short: "Change an extension's outbound routing attributes (only the flags given change)",
		Example: `  switchd extension set 1001 --class international
  switchd extension set 1001 --caller-id +862155550101 --privacy=false
  switchd extension set 1001 --caller-id ""    # no own caller ID: the trunk's default`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var class, callerID *string
			var privacy *bool
			if cmd.Flags().Changed("class") {
				class = &setClass
			}
			if cmd.Flags().Changed("caller-id") {
				callerID = &setCallerID
			}
			if cmd.Flags().Changed("privacy") {
				privacy = &setPrivacy
			}
			if class == nil && callerID == nil && privacy == nil {
				return errors.New("nothing to change: give --class, --caller-id or --privacy")
			}
			if err := checkRoutingFlags(class, callerID); err != nil {
				return err
			}
			return withAccounts(cmd, g, func(_ *accounts.Service, st *store.Store) error {
				if err := st.SetExtensionRouting(withContext(cmd), args[0], class, callerID, privacy); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "extension %s changed\n", args[0])
				return nil
			})
		},
	}
	set.Flags().StringVar(&setClass, "class", "", classUsage)
	set.Flags().StringVar(&setCallerID, "caller-id", "", callerIDUsage+`; "" clears it`)
	set.Flags().BoolVar(&setPrivacy, "privacy", false, privacyUsage+" (--privacy=false presents it again)")

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
				fmt.Fprintln(tw, "NUMBER\tNAME\tCLASS\tCALLER ID\tPRIVACY\tREALM\tCREATED")
				for _, e := range exts {
					privacy := "no"
					if e.Privacy {
						privacy = "yes"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Number, dash(e.Name), e.Class, dash(e.CallerID), privacy,
						e.Realm, e.Created.Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(add, set, passwd, remove, list)
	return cmd
}

// Help texts of the routing flags add and set share.
const (
	classUsage    = "outbound permission class: internal (extensions only), national or international"
	callerIDUsage = "the extension's own outside number, E.164 (+ and 6–15 digits), presented on trunks that allow it"
	privacyUsage  = "withhold the caller ID on outside calls (RFC 3325 Privacy: id)"
)

// checkRoutingFlags checks the routing flags given (non-nil) before
// anything is asked or written, naming the flag that is wrong.
func checkRoutingFlags(class, callerID *string) error {
	var errs []error
	if class != nil {
		if err := store.ValidClass(*class); err != nil {
			errs = append(errs, fmt.Errorf("--class: %w", err))
		}
	}
	if callerID != nil {
		if err := store.ValidCallerID(*callerID); err != nil {
			errs = append(errs, fmt.Errorf("--caller-id: %w", err))
		}
	}
	return errors.Join(errs...)
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
