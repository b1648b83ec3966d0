package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

// Agent state lives in the running switch's ACD: these commands change
// and read it through the API, never through SQL.
func newAgentLiveCmds(g *globalFlags) []*cobra.Command {
	login := agentStateCmd(g, "login ID", "Log an agent in (available for offers)", web.AgentAvailable, "logged in")
	logout := agentStateCmd(g, "logout ID", "Log an agent out (ringing offers are withdrawn)", web.AgentLoggedOut, "logged out")

	var sf apiFlags
	var reason string
	state := &cobra.Command{
		Use:   "state ID available|not-ready|logged-out [--reason CODE]",
		Short: "Set an agent's state; not-ready needs a reason code (break, lunch, training…)",
		Example: "  switchd agent state alice not-ready --reason lunch\n" +
			"  switchd agent state alice available",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := parseAgentState(args[1])
			if err != nil {
				return err
			}
			if st == web.AgentNotReady && reason == "" {
				return errors.New("not-ready needs --reason (break, lunch, training or your site's code)")
			}
			c, err := newAPIClient(cmd, g, &sf)
			if err != nil {
				return err
			}
			if err := setAgentState(c, args[0], st, reason); err != nil {
				return err
			}
			msg := fmt.Sprintf("agent %s is now %s", args[0], st)
			if reason != "" {
				msg += " (" + reason + ")"
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	sf.register(state)
	state.Flags().StringVar(&reason, "reason", "", "reason code for not-ready (break, lunch, training…)")

	var f apiFlags
	var asJSON bool
	status := &cobra.Command{
		Use:   "status [ID]",
		Short: "Show agents' live state in the running switch: state, reason, load, idle since, wrap-up, missed offers",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var agents []web.AgentStatus
			if len(args) == 1 {
				var a web.AgentStatus
				if err := c.do("GET", "/api/v1/agents/"+url.PathEscape(args[0]), nil, &a); err != nil {
					return err
				}
				agents = append(agents, a)
			} else {
				var out struct {
					Agents []web.AgentStatus `json:"agents"`
				}
				if err := c.do("GET", "/api/v1/agents", nil, &out); err != nil {
					return err
				}
				agents = out.Agents
			}
			var v any = agents
			if len(args) == 1 {
				v = agents[0]
			}
			return printList(cmd.OutOrStdout(), asJSON, v, "AGENT\tSTATE\tREASON\tLOAD\tIDLE SINCE\tWRAP-UP UNTIL\tMISSES", func(tw io.Writer) {
				for _, a := range agents {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", a.ID, a.State, dash(a.Reason), dash(joinMap(a.Load)),
						localTime(a.IdleSince), localTime(a.WrapUpUntil), a.Misses)
				}
			})
		},
	}
	f.register(status)
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return []*cobra.Command{login, logout, state, status}
}

func agentStateCmd(g *globalFlags, use, short string, st web.AgentStateChange, done string) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			if err := setAgentState(c, args[0], st, ""); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent %s %s\n", args[0], done)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// parseAgentState reads a state as typed: not-ready or not_ready.
func parseAgentState(s string) (web.AgentStateChange, error) {
	st := web.AgentStateChange(strings.ReplaceAll(strings.ToLower(s), "-", "_"))
	switch st {
	case web.AgentAvailable, web.AgentNotReady, web.AgentLoggedOut:
		return st, nil
	}
	return "", fmt.Errorf("state %q is not available, not-ready or logged-out", s)
}

func setAgentState(c *apiClient, id string, st web.AgentStateChange, reason string) error {
	if err := c.post("/api/v1/agents/"+url.PathEscape(id)+"/state", web.AgentStateBody{State: st, Reason: reason}); err != nil {
		return fmt.Errorf("agent %s: %w", id, err)
	}
	return nil
}

// localTime formats t for a table: local time, "-" when zero.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// syncAgentProfile asks the running switch, if one answers, to re-read an
// agent's profile the CLI just wrote to the store. No switch (no token
// yet, or nothing listening) is fine and prints nothing; any other failure
// is a warning on stderr — the store write succeeded and the switch picks
// the profile up when it next starts.
func syncAgentProfile(cmd *cobra.Command, g *globalFlags, id string) {
	// The store write already reported the config's warnings: load it
	// again quietly.
	stderr := cmd.ErrOrStderr()
	cmd.SetErr(io.Discard)
	c, err := newAPIClient(cmd, g, &apiFlags{})
	cmd.SetErr(stderr)
	if errors.Is(err, fs.ErrNotExist) {
		return // no admin token: the switch never ran with this data_dir
	}
	if err == nil {
		c.http.Timeout = 5 * time.Second
		err = c.do("POST", "/api/v1/agents/"+url.PathEscape(id)+"/sync", nil, nil)
	}
	if err == nil || errors.Is(err, syscall.ECONNREFUSED) {
		return
	}
	fmt.Fprintf(stderr, "switchd: warning: agent %s is saved, but the running switch did not reload it: %v\n", id, err)
}
