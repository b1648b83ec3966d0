package main

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

// Supervisors on live calls (listen, whisper, barge) are watched and
// steered in the running switch, through its API. A session starts from
// the supervisor's phone; these commands list, switch and stop sessions
// and read the audit log.
func newMonitorCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Watch and steer supervisors on live calls (listen, whisper, barge) and read their audit log",
	}
	cmd.AddCommand(newMonitorListCmd(g), newMonitorModeCmd(g), newMonitorStopCmd(g), newMonitorAuditCmd(g))
	return cmd
}

func newMonitorListCmd(g *globalFlags) *cobra.Command {
	return liveList(g, "list [--json]", "Supervisor sessions now: call ID, agent, customer, supervisor, mode, started",
		"/api/v1/monitors", "monitors", "CALL\tAGENT\tCUSTOMER\tSUPERVISOR\tMODE\tSTARTED", func(tw io.Writer, s web.MonitorSession) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.CallID, dash(s.AgentExt), dash(s.Customer),
				party(s.SupervisorExt, s.Supervisor), dash(s.Mode), localTime(s.Started))
		})
}

func newMonitorModeCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use: "mode CALL_ID listen|whisper|barge",
		Short: "Switch the supervisor on a call to listen (hears both sides), whisper (the agent hears them) " +
			"or barge (everyone hears everyone)",
		Example:   "  switchd monitor mode 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60 whisper",
		Args:      cobra.ExactArgs(2),
		ValidArgs: []string{web.MonitorListen, web.MonitorWhisper, web.MonitorBarge},
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := args[1]
			switch mode {
			case web.MonitorListen, web.MonitorWhisper, web.MonitorBarge:
			default:
				return fmt.Errorf("mode %q is not listen, whisper or barge", mode)
			}
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			if err := postMonitor(c, args[0], "mode", web.MonitorModeBody{Mode: mode}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "supervisor on call %s now in %s mode\n", args[0], mode)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newMonitorStopCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "stop CALL_ID",
		Short:   "Take the supervisor off a call (the call goes on)",
		Example: "  switchd monitor stop 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			if err := postMonitor(c, args[0], "stop", nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "supervisor taken off call %s\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// postMonitor posts action (mode, stop) on the session on a call, with
// body as JSON when not nil.
func postMonitor(c *apiClient, callID, action string, body any) error {
	if err := c.post("/api/v1/monitors/"+url.PathEscape(callID)+"/"+action, body); err != nil {
		return fmt.Errorf("call %s: %w", callID, err)
	}
	return nil
}

func newMonitorAuditCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	var asJSON bool
	var since, callID string
	cmd := &cobra.Command{
		Use:   "audit [--since 24h] [--call-id X] [--json]",
		Short: "The supervisors' audit log, oldest first: who listened, whispered or barged on which call, and when",
		Example: "  switchd monitor audit\n" +
			"  switchd monitor audit --since 7d --call-id 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60 --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := web.ParseTime(since, time.Now())
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			q := url.Values{"since": {t.UTC().Format(time.RFC3339Nano)}}
			if callID != "" {
				q.Set("call_id", callID)
			}
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out struct {
				Audit []web.MonitorAuditEntry `json:"audit"`
			}
			if err := c.do("GET", "/api/v1/monitors/audit?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if out.Audit == nil {
				out.Audit = []web.MonitorAuditEntry{}
			}
			if !asJSON && len(out.Audit) >= web.DefaultMonitorAuditLimit {
				fmt.Fprintf(cmd.ErrOrStderr(), "the most recent %d lines only: narrow with --since or --call-id\n", len(out.Audit))
			}
			return printList(cmd.OutOrStdout(), asJSON, out.Audit, "TIME\tACTION\tMODE\tCALL\tAGENT\tSUPERVISOR\tDETAIL", func(tw io.Writer) {
				for _, e := range out.Audit {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", localTime(e.At), e.Action, dash(e.Mode), dash(e.CallID),
						dash(e.AgentExt), party(e.SupervisorExt, e.Supervisor), dash(e.Detail))
				}
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&since, "since", "24h", "from this time: RFC 3339 time, date (2006-01-02) or duration ago (24h, 7d)")
	cmd.Flags().StringVar(&callID, "call-id", "", "only this call's lines")
	return cmd
}
