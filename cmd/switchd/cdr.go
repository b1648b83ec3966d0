package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/web"
)

// CDRs are history, not live state: these commands read the database
// directly (read-only), whether or not the switch runs.
func newCDRCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "cdr", Short: "Read call detail records"}
	cmd.AddCommand(newCDRListCmd(g), newCDRExportCmd(g))
	return cmd
}

// cdrFilterFlags are the selection flags list and export share.
type cdrFilterFlags struct {
	since, until, caller, callee string
}

func (f *cdrFilterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.since, "since", "", "only calls that started at or after this: RFC 3339 time, date (2006-01-02) or duration ago (24h, 7d)")
	cmd.Flags().StringVar(&f.until, "until", "", "only calls that started before this (same forms as --since)")
	cmd.Flags().StringVar(&f.caller, "caller", "", "only calls from this number")
	cmd.Flags().StringVar(&f.callee, "callee", "", "only calls to this number")
}

func (f *cdrFilterFlags) filter(now time.Time) (store.CDRFilter, error) {
	out := store.CDRFilter{Caller: f.caller, Callee: f.callee}
	var err error
	if f.since != "" {
		if out.Since, err = web.ParseTime(f.since, now); err != nil {
			return out, fmt.Errorf("--since: %w", err)
		}
	}
	if f.until != "" {
		if out.Until, err = web.ParseTime(f.until, now); err != nil {
			return out, fmt.Errorf("--until: %w", err)
		}
	}
	return out, nil
}

func newCDRListCmd(g *globalFlags) *cobra.Command {
	var f cdrFilterFlags
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list [--limit N] [--since T] [--json]",
		Aliases: []string{"ls"},
		Short:   "List call detail records, newest first",
		Example: "  switchd cdr list --since 24h\n  switchd cdr list --caller +442071234567 --limit 10 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit must be at least 1")
			}
			filter, err := f.filter(time.Now())
			if err != nil {
				return err
			}
			filter.Limit = limit
			return withCDRStore(cmd, g, func(st *store.Store) error {
				cdrs, err := st.ListCDRs(withContext(cmd), filter)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]web.CDR, len(cdrs))
					for i, c := range cdrs {
						out[i] = apiCDR(c)
					}
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(out)
				}
				return printCDRs(cmd.OutOrStdout(), cdrs)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVarP(&limit, "limit", "n", 50, "at most this many records")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the shape of GET /api/v1/cdrs)")
	return cmd
}

func printCDRs(w io.Writer, cdrs []store.CDR) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tDIRECTION\tTRUNK\tDID\tCALLER\tCALLEE\tDURATION\tBILLABLE\tCAUSE\tHUNG UP\tID")
	for _, c := range cdrs {
		dur, bill := c.Duration.Round(time.Second).String(), c.Billable.Round(time.Second).String()
		if c.Open() {
			dur, bill = "in progress", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Start.Local().Format(time.DateTime),
			dash(c.Direction), dash(c.Trunk), dash(c.DID), party(c.Caller, c.CallerName), party(c.Callee, c.CalleeName),
			dur, bill, dash(c.Cause), dash(c.HangupSide), c.ID)
	}
	return tw.Flush()
}

func party(number, name string) string {
	if name == "" {
		return dash(number)
	}
	return fmt.Sprintf("%s (%s)", dash(number), name)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newCDRExportCmd(g *globalFlags) *cobra.Command {
	var f cdrFilterFlags
	var asCSV bool
	var output string
	cmd := &cobra.Command{
		Use:   "export --csv [--since T] [--until T] [-o FILE]",
		Short: "Export call detail records, oldest first",
		Long: "export writes every selected record, oldest first, streaming from the database.\n" +
			"CSV has a header row and RFC 4180 quoting; times are RFC 3339 UTC with\n" +
			"milliseconds, durations are milliseconds, empty fields are unknown.",
		Example: "  switchd cdr export --csv --since 2025-06-01 --until 2025-07-01 -o june.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !asCSV {
				return errors.New("choose an export format: --csv")
			}
			filter, err := f.filter(time.Now())
			if err != nil {
				return err
			}
			return withCDRStore(cmd, g, func(st *store.Store) error {
				return writeOutput(cmd.OutOrStdout(), output, func(w io.Writer) error {
					return exportCSV(w, st.ExportCDRs(withContext(cmd), filter))
				})
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asCSV, "csv", false, "write CSV (RFC 4180)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output (replaced only when the export succeeds)")
	return cmd
}

// cdrCSVHeader names the CSV columns, as the database does. New columns
// go at the end, so consumers that read columns by position keep working.
var cdrCSVHeader = []string{
	"id", "medium", "direction", "caller", "caller_name", "callee", "callee_name",
	"start", "answer", "end", "duration_ms", "billable_ms", "cause", "hangup_side",
	"codec_a", "codec_b", "a_packets_lost", "a_jitter_ms", "b_packets_lost", "b_jitter_ms",
	"trunk", "did", "route",
}

func exportCSV(w io.Writer, cdrs iter.Seq2[store.CDR, error]) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cdrCSVHeader); err != nil {
		return err
	}
	for c, err := range cdrs {
		if err != nil {
			return err
		}
		lostA, jitA := qualityCSV(c.QualityA)
		lostB, jitB := qualityCSV(c.QualityB)
		rec := []string{
			c.ID, c.Medium, c.Direction, c.Caller, c.CallerName, c.Callee, c.CalleeName,
			timeCSV(c.Start), timeCSV(c.Answer), timeCSV(c.End),
			strconv.FormatInt(c.Duration.Milliseconds(), 10), strconv.FormatInt(c.Billable.Milliseconds(), 10),
			c.Cause, c.HangupSide, c.CodecA, c.CodecB, lostA, jitA, lostB, jitB,
			c.Trunk, c.DID, c.Route,
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func timeCSV(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func qualityCSV(q *store.MediaQuality) (lost, jitter string) {
	if q == nil {
		return "", ""
	}
	return strconv.FormatInt(q.PacketsLost, 10), strconv.FormatFloat(q.JitterMS, 'f', -1, 64)
}

// writeOutput runs write on stdout, or on a temporary file renamed to path
// once write succeeded, so a failed export never leaves half a file.
func writeOutput(stdout io.Writer, path string, write func(io.Writer) error) (err error) {
	if path == "" || path == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = tmp.Chmod(0o640); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// withCDRStore opens the configured database read-only.
func withCDRStore(cmd *cobra.Command, g *globalFlags, fn func(*store.Store) error) error {
	cfg, err := loadConfig(cmd, g.config)
	if err != nil {
		return err
	}
	st, err := store.Open(withContext(cmd), cfg.DBPath(), store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// apiCDR is a record in the API's JSON shape (the same conversion the API uses).
func apiCDR(c store.CDR) web.CDR { return server.WebCDR(c) }
