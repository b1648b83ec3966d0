package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/web"
)

// Conference rooms are watched and steered in the running switch, through
// its API.
func newConferenceCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "conference", Short: "Watch and steer the running switch's conference rooms"}
	cmd.AddCommand(newConferenceListCmd(g), newConferenceKickCmd(g), newConferenceMuteCmd(g))
	return cmd
}

func newConferenceListCmd(g *globalFlags) *cobra.Command {
	return liveList(g, "list [--json]", "Conference rooms now: number, PIN, participants (call ID, caller, joined, muted)",
		"/api/v1/conferences", "conferences", "ROOM\tNUMBER\tPIN\tPARTICIPANTS", func(tw io.Writer, r web.Conference) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, dash(r.Number), yesNo(r.PIN), occupancy(r))
			for _, p := range r.Participants {
				muted := "-"
				if p.Muted {
					muted = "muted"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.CallID, party(p.Caller, p.Name), localTime(p.Joined), muted)
			}
		})
}

// occupancy is a room's participant count, over its limit when it has one
// ("3/10").
func occupancy(r web.Conference) string {
	n := strconv.Itoa(len(r.Participants))
	if r.Max > 0 {
		n += "/" + strconv.Itoa(r.Max)
	}
	return n
}

// yesNo prints a flag for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newConferenceKickCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "kick ROOM CALL_ID",
		Short:   "Hang a participant up",
		Example: "  switchd conference kick huddle 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			if err := postParticipant(c, args[0], args[1], "kick", nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s kicked from room %s\n", args[1], args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newConferenceMuteCmd(g *globalFlags) *cobra.Command {
	var f apiFlags
	var off bool
	cmd := &cobra.Command{
		Use:   "mute ROOM CALL_ID [--off]",
		Short: "Mute a participant (the others stop hearing them); --off unmutes",
		Example: "  switchd conference mute huddle 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60\n" +
			"  switchd conference mute huddle 0197a3c2-5d1e-7c3a-9f00-1b2c3d4e5f60 --off",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(cmd, g, &f)
			if err != nil {
				return err
			}
			muted := !off
			if err := postParticipant(c, args[0], args[1], "mute", web.MuteBody{Muted: &muted}); err != nil {
				return err
			}
			done := "muted"
			if off {
				done = "unmuted"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s %s in room %s\n", args[1], done, args[0])
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&off, "off", false, "unmute instead")
	return cmd
}

// postParticipant posts action (kick, mute) on a participant, with body
// as JSON when not nil.
func postParticipant(c *apiClient, room, callID, action string, body any) error {
	path := "/api/v1/conferences/" + url.PathEscape(room) + "/participants/" + url.PathEscape(callID) + "/" + action
	if err := c.post(path, body); err != nil {
		return fmt.Errorf("room %s, call %s: %w", room, callID, err)
	}
	return nil
}
