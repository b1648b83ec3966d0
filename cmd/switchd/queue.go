package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/web"
)

// Queues are read and changed in the running switch's ACD, through its API.
func newQueueCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "queue", Short: "Watch and steer the running switch's ACD queues"}
	cmd.AddCommand(newQueueListCmd(g), newQueueStatsCmd(g), newQueueMoveCmd(g), newQueuePriorityCmd(g), newQueueTraceCmd(g))
	return cmd
}

func newQueueListCmd(g *globalFlags) *cobra.Command {
	return liveList(g, "list", "Queues now: contacts waiting, longest wait, agents present and ready, estimated wait",
		"/api/v1/queues", "queues", "QUEUE\tWAITING\tLONGEST\tMEMBERS\tPRESENT\tREADY\tEST. WAIT", func(tw io.Writer, q web.QueueStatus) {
			name := q.Name
			if q.Retired {
				name += " (retired)"
			}
			est := "-"
			if q.EstimatedWaitS != nil {
				est = fmtSeconds(*q.EstimatedWaitS)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%s\n", name, q.Waiting, fmtSeconds(q.LongestWaitS),
				q.Members, q.Present, q.Ready, est)
		})
}

func newQueueStatsCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	var asJSON bool
	var since string
	cmd := &cobra.Command{
		Use:   "stats [--since T]",
		Short: "Queue metrics: contacts, service level, ASA, AHT, abandon rate (default: since midnight UTC)",
		Example: "  switchd queue stats\n" +
			"  switchd queue stats --since 1h --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/api/v1/queues/stats"
			if since != "" {
				t, err := web.ParseTime(since, time.Now())
				if err != nil {
					return fmt.Errorf("--since: %w", err)
				}
				path += "?since=" + url.QueryEscape(t.UTC().Format(time.RFC3339Nano))
			}
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var rep web.QueueStatsReport
			if err := c.do("GET", path, nil, &rep); err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "since %s\n", rep.Since.Local().Format(time.DateTime+" MST"))
			}
			return printList(cmd.OutOrStdout(), asJSON, rep, "QUEUE\tJOINED\tANSWERED\tABANDONED\tOVERFLOWED\tSL\tASA\tAHT\tABANDON RATE\tWAITING\tLONGEST", func(tw io.Writer) {
				for _, q := range rep.Queues {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", q.Queue, q.Joined, q.Answered, q.Abandoned,
						q.Overflowed, percent(q.ServiceLevel), fmtSeconds(q.ASAS), fmtSeconds(q.AHTS), percent(q.AbandonRate),
						q.Waiting, fmtSeconds(q.LongestWaitingS))
				}
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&since, "since", "", "from this time: RFC 3339 time, date (2006-01-02) or duration ago (1h, 7d)")
	return cmd
}

func newQueueMoveCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "move CALL_ID QUEUE",
		Short:   "Move a waiting contact to another queue",
		Example: "  switchd queue move 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60 billing",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			if err := postContact(c, args[0], "move", web.MoveBody{Queue: args[1]}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s moved to queue %s\n", args[0], args[1])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newQueuePriorityCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "priority CALL_ID N",
		Short: "Change a waiting contact's priority (higher is served first)",
		Example: "  switchd queue priority 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60 50\n" +
			"  switchd queue priority 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60 -- -5   # a negative priority after --",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("priority %q is not a whole number", args[1])
			}
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			if err := postContact(c, args[0], "priority", web.PriorityBody{Priority: &n}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s now has priority %d\n", args[0], n)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func postContact(c *apiClient, callID, action string, body any) error {
	if err := c.post("/api/v1/queues/contacts/"+url.PathEscape(callID)+"/"+action, body); err != nil {
		return fmt.Errorf("call %s: %w", callID, err)
	}
	return nil
}

func newQueueTraceCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trace CALL_ID",
		Short: "Show how the ACD routed a call: each queue and agent event with the reason for it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			var out struct {
				Events []web.QueueEvent `json:"events"`
			}
			q := url.Values{"call_id": {args[0]}, "limit": {strconv.Itoa(web.MaxQueueEventLimit)}}
			if err := c.do("GET", "/api/v1/queues/events?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if len(out.Events) == 0 && !asJSON {
				return errors.New("no queue events for call " + args[0])
			}
			return printList(cmd.OutOrStdout(), asJSON, out.Events, "TIME\tEVENT\tQUEUE\tAGENT\tWHY", func(tw io.Writer) {
				for _, e := range out.Events {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05.000"), e.Type,
						dash(e.Data[acd.DataQueue]), dash(e.Data[acd.DataAgent]), dash(traceWhy(e)))
				}
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// traceWhy is the reason of a routing event, with the cause when the
// contact ended.
func traceWhy(e web.QueueEvent) string {
	why := e.Data[acd.DataReason]
	if e.Type == string(call.EventCallTransferred) {
		d := e.Data
		why = fmt.Sprintf("%s transfer by %s of %s to %s: %s", d[call.DataTransferKind], dash(d[call.DataTransferor]),
			dash(d[call.DataTransferee]), dash(d[call.DataTransferTarget]), d[call.DataTransferResult])
		if st := d[call.DataTransferStatus]; st != "" {
			why += " (" + st + ")"
		}
	}
	if e.Cause != "" {
		if why != "" {
			why += "; "
		}
		why += "cause " + e.Cause
	}
	return why
}

// fmtSeconds prints seconds as a duration ("1m35.5s").
func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

// percent prints a 0..1 rate; "-" when unknown.
func percent(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}
