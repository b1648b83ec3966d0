package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/recordings"
)

// Recordings are history, like CDRs: these commands read the index in the
// database directly (read-only) and the files it names, whether or not
// the switch runs.
func newRecordingsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "recordings", Short: "List and export call recordings"}
	cmd.AddCommand(newRecordingsListCmd(g), newRecordingsExportCmd(g))
	return cmd
}

// recordingJSON is a recording as `recordings list --json` prints it.
type recordingJSON struct {
	ID            int64                 `json:"id"`
	CallID        string                `json:"call_id"`
	Queue         string                `json:"queue,omitempty"`
	Caller        string                `json:"caller,omitempty"`
	Callee        string                `json:"callee,omitempty"`
	Agent         string                `json:"agent,omitempty"`
	Path          string                `json:"path"`
	Format        recordings.Format     `json:"format"`
	State         recordings.State      `json:"state"`
	Start         time.Time             `json:"start"`
	End           *time.Time            `json:"end,omitempty"`
	DurationMS    int64                 `json:"duration_ms"`
	Bytes         int64                 `json:"bytes"`
	Paused        []recordings.Interval `json:"paused"`
	DroppedFrames int64                 `json:"dropped_frames"`
	LostFrames    int64                 `json:"lost_frames"`
	Deleted       *time.Time            `json:"deleted,omitempty"`
}

func recordingView(r recordings.Record) recordingJSON {
	out := recordingJSON{
		ID: r.ID, CallID: r.CallID, Queue: r.Queue, Caller: r.Caller, Callee: r.Callee, Agent: r.Agent,
		Path: r.Path, Format: r.Format, State: r.State, Start: r.Start.UTC(), DurationMS: r.Duration.Milliseconds(),
		Bytes: r.Bytes, Paused: r.Paused, DroppedFrames: r.Dropped, LostFrames: r.Lost,
	}
	if out.Paused == nil {
		out.Paused = []recordings.Interval{}
	}
	if !r.End.IsZero() {
		end := r.End.UTC()
		out.End = &end
	}
	if !r.Deleted.IsZero() {
		del := r.Deleted.UTC()
		out.Deleted = &del
	}
	return out
}

func newRecordingsListCmd(g *globalFlags) *cobra.Command {
	var since, until, caller, agent, callID, state string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list [--since T] [--caller N] [--agent A] [--call-id ID] [--json]",
		Aliases: []string{"ls"},
		Short:   "List call recordings, newest first",
		Example: "  switchd recordings list --since 24h\n  switchd recordings list --agent alice --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return errors.New("--limit must be at least 1")
			}
			f := cdrFilterFlags{since: since, until: until}
			cf, err := f.filter(time.Now())
			if err != nil {
				return err
			}
			filter := store.RecordingFilter{Since: cf.Since, Until: cf.Until, Caller: caller, Agent: agent, CallID: callID, Limit: limit}
			if state != "" {
				if filter.State, err = recordings.ParseState(state); err != nil {
					return fmt.Errorf("--state: %q is not recording, complete, repaired or deleted", state)
				}
			}
			return withCDRStore(cmd, g, func(st *store.Store) error {
				list, err := st.ListRecordings(withContext(cmd), filter)
				if err != nil {
					return err
				}
				views := make([]recordingJSON, len(list))
				for i, r := range list {
					views[i] = recordingView(r)
				}
				return printList(cmd.OutOrStdout(), asJSON, views,
					"START\tDURATION\tCALLER\tCALLEE\tQUEUE\tAGENT\tFORMAT\tSTATE\tPAUSED\tCALL ID\tID",
					func(w io.Writer) {
						for _, r := range list {
							fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n",
								r.Start.Local().Format(time.DateTime), recordingDuration(r), dash(r.Caller), dash(r.Callee),
								dash(r.Queue), dash(r.Agent), r.Format, r.State, pausedTotal(r.Paused), r.CallID, r.ID)
						}
					})
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only recordings started at or after this: RFC 3339 time, date (2006-01-02) or duration ago (24h, 7d)")
	cmd.Flags().StringVar(&until, "until", "", "only recordings started before this (same forms as --since)")
	cmd.Flags().StringVar(&caller, "caller", "", "only calls from this number")
	cmd.Flags().StringVar(&agent, "agent", "", "only calls this agent took")
	cmd.Flags().StringVar(&callID, "call-id", "", "only the recordings of this call")
	cmd.Flags().StringVar(&state, "state", "", "only recordings in this state: recording, complete, repaired, deleted")
	cmd.Flags().IntVarP(&limit, "limit", "n", 50, "at most this many recordings")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// recordingDuration is the duration to show, or "recording" while it goes.
func recordingDuration(r recordings.Record) string {
	if r.State == recordings.StateRecording {
		return "recording"
	}
	return r.Duration.Round(time.Second).String()
}

// pausedTotal is the time a recording was paused, or "-".
func pausedTotal(p []recordings.Interval) string {
	var d time.Duration
	for _, iv := range p {
		d += iv.End - iv.Start
	}
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", d.Round(100*time.Millisecond), len(p))
}

func newRecordingsExportCmd(g *globalFlags) *cobra.Command {
	var output string
	var id int64
	cmd := &cobra.Command{
		Use:   "export CALL_ID -o FILE [--id N]",
		Short: "Copy a call's recording (WAV) to a file",
		Long: "export copies the recording of a call to FILE (\"-\": standard output), replacing FILE only\n" +
			"when the copy succeeded. A recording still in progress is copied as far as it\n" +
			"goes, its header set to the copy's length. A call recorded more than once\n" +
			"(see recordings list --call-id) needs --id.",
		Example: "  switchd recordings export 0196a1b2-0000-7000-8000-000000000001 -o call.wav",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			callID := args[0]
			return withCDRStore(cmd, g, func(st *store.Store) error {
				list, err := st.ListRecordings(withContext(cmd), store.RecordingFilter{CallID: callID})
				if err != nil {
					return err
				}
				r, err := pickRecording(callID, list, id)
				if err != nil {
					return err
				}
				if err := exportWAV(cmd.OutOrStdout(), r.Path, output); err != nil {
					return err
				}
				if output != "-" {
					fmt.Fprintf(cmd.OutOrStdout(), "exported recording %d of call %s (%s, %s) to %s\n",
						r.ID, callID, recordingDuration(r), r.Format, output)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "the file to write (\"-\": standard output)")
	cmd.Flags().Int64Var(&id, "id", 0, "the recording to export, when the call has several")
	cmd.MarkFlagRequired("output")
	return cmd
}

// pickRecording chooses the recording of callID to export among list:
// the one with ID id, or the only one not deleted.
func pickRecording(callID string, list []recordings.Record, id int64) (recordings.Record, error) {
	var live, deleted []recordings.Record
	for _, r := range list {
		if id != 0 && r.ID != id {
			continue
		}
		if r.State == recordings.StateDeleted {
			deleted = append(deleted, r)
		} else {
			live = append(live, r)
		}
	}
	switch {
	case len(live) == 1:
		return live[0], nil
	case len(live) > 1:
		ids := make([]string, len(live))
		for i, r := range live {
			ids[i] = fmt.Sprintf("%d (started %s)", r.ID, r.Start.Local().Format(time.DateTime))
		}
		return recordings.Record{}, fmt.Errorf("call %s has %d recordings: %s; choose one with --id", callID, len(live), strings.Join(ids, ", "))
	case len(deleted) > 0:
		return recordings.Record{}, fmt.Errorf("the recording of call %s was deleted on %s (retention): %w",
			callID, deleted[0].Deleted.Local().Format(time.DateTime), store.ErrNotFound)
	case id != 0:
		return recordings.Record{}, fmt.Errorf("call %s has no recording %d: %w", callID, id, store.ErrNotFound)
	}
	return recordings.Record{}, fmt.Errorf("call %s has no recording: %w", callID, store.ErrNotFound)
}

// exportWAV copies the WAV file src to dst ("-": stdout), through a
// temporary file renamed into place once complete and its header checked
// against its length (a recording in progress has a header behind its
// data).
func exportWAV(stdout io.Writer, src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer in.Close()
	if dst == "-" {
		_, err := io.Copy(stdout, in)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = tmp.Chmod(0o640); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, _, err = recordings.RepairFile(tmp.Name()); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
