package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultSweepInterval is how often a Sweeper runs.
const DefaultSweepInterval = time.Hour

// sweepBatch is how many expired recordings a sweep asks for at a time.
const sweepBatch = 500

// Index is what the Sweeper needs of the index (*store.Store).
type Index interface {
	// ExpiredRecordings returns up to limit recordings not yet deleted
	// that ended (or, if they never did, started) before before, oldest
	// first.
	ExpiredRecordings(ctx context.Context, before time.Time, limit int) ([]Record, error)
	// MarkRecordingDeleted sets a recording's state to StateDeleted.
	MarkRecordingDeleted(ctx context.Context, id int64, at time.Time) error
}

// Sweeper deletes recordings older than the retention: the files the
// index lists as expired (their rows are kept, marked deleted), then any
// other WAV file left in a day directory (<yyyy>/<mm>/<dd>) past the
// retention, and the directories left empty.
type Sweeper struct {
	Store Index
	// Dir is the recordings directory.
	Dir string
	// RetentionDays is how long recordings are kept; 0 or less keeps
	// them forever (the sweeper does nothing).
	RetentionDays int
	// Logger receives what each sweep did. Default: discard.
	Logger *slog.Logger
	// Interval is the time between sweeps. Default DefaultSweepInterval.
	Interval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// SweepResult is what one sweep did.
type SweepResult struct {
	Deleted int   // recordings of the index deleted
	Orphans int   // other expired files deleted
	Bytes   int64 // their size
}

// Run sweeps at once and then every Interval until ctx is done; it
// returns nil then. Errors of a sweep are logged, and the next sweep
// tries again.
func (s *Sweeper) Run(ctx context.Context) error {
	if s.RetentionDays <= 0 {
		return nil
	}
	every := s.Interval
	if every <= 0 {
		every = DefaultSweepInterval
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := s.SweepOnce(ctx, now())
		if err != nil && ctx.Err() == nil {
			s.logger().Error("recordings_sweep_failed", "err", err)
		}
		if res.Deleted+res.Orphans > 0 {
			s.logger().Info("recordings_swept", "deleted", res.Deleted, "orphans", res.Orphans, "bytes", res.Bytes)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Sweeper) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// SweepOnce deletes what expired by now: the recordings that ended more
// than RetentionDays before now. A file already gone counts as deleted; a
// file that cannot be deleted keeps its row as it is (the next sweep
// tries again) and is reported in the error, after the others are done.
func (s *Sweeper) SweepOnce(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	if s.RetentionDays <= 0 {
		return res, nil
	}
	cutoff := now.AddDate(0, 0, -s.RetentionDays)
	var errs []error
	for {
		recs, err := s.Store.ExpiredRecordings(ctx, cutoff, sweepBatch)
		if err != nil {
			return res, fmt.Errorf("recordings: sweep: %w", err)
		}
		progress := false
		for _, r := range recs {
			if err := os.Remove(r.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("recordings: sweep: %w", err))
				continue
			}
			if err := s.Store.MarkRecordingDeleted(ctx, r.ID, now); err != nil {
				return res, fmt.Errorf("recordings: sweep: %w", err)
			}
			progress = true
			res.Deleted++
			res.Bytes += r.Bytes
			s.logger().Debug("recording_deleted", "call_id", r.CallID, "path", r.Path)
		}
		if len(recs) < sweepBatch || !progress {
			break
		}
	}
	n, bytes, err := s.sweepDays(cutoff)
	res.Orphans, res.Bytes = n, res.Bytes+bytes
	if err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// sweepDays deletes the WAV files last written before cutoff in the day
// directories at least two days older than cutoff (the margin covers the
// time zone the directories were named in), and the directories it
// leaves empty. Directories not named as dates are left alone, and so are
// newer days: the walk does not enter them.
func (s *Sweeper) sweepDays(cutoff time.Time) (n int, bytes int64, err error) {
	var errs []error
	last := cutoff.AddDate(0, 0, -2)
	years, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("recordings: sweep: %w", err)
	}
	for _, y := range dateDirs(years, 4) {
		yp := filepath.Join(s.Dir, y)
		months, err := os.ReadDir(yp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range dateDirs(months, 2) {
			mp := filepath.Join(yp, m)
			days, err := os.ReadDir(mp)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, d := range dateDirs(days, 2) {
				day, err := time.Parse("2006/01/02", y+"/"+m+"/"+d)
				if err != nil || !day.Before(last) {
					continue
				}
				dp := filepath.Join(mp, d)
				k, b, err := sweepFiles(dp, cutoff)
				n, bytes = n+k, bytes+b
				if err != nil {
					errs = append(errs, err)
				}
				removeIfEmpty(dp)
			}
			removeIfEmpty(mp)
		}
		removeIfEmpty(yp)
	}
	if len(errs) > 0 {
		return n, bytes, fmt.Errorf("recordings: sweep: %w", errors.Join(errs...))
	}
	return n, bytes, nil
}

// dateDirs returns the names of the directories among es made of width
// digits, in order.
func dateDirs(es []fs.DirEntry, width int) []string {
	var out []string
	for _, e := range es {
		name := e.Name()
		if !e.IsDir() || len(name) != width || strings.Trim(name, "0123456789") != "" {
			continue
		}
		out = append(out, name)
	}
	return out
}

// sweepFiles deletes the WAV files of dir last written before cutoff.
func sweepFiles(dir string, cutoff time.Time) (n int, bytes int64, err error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, e := range es {
		if !e.Type().IsRegular() || !strings.EqualFold(filepath.Ext(e.Name()), ".wav") {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n, bytes = n+1, bytes+info.Size()
	}
	return n, bytes, errors.Join(errs...)
}

// removeIfEmpty removes dir if it is empty (os.Remove refuses otherwise).
func removeIfEmpty(dir string) {
	if es, err := os.ReadDir(dir); err == nil && len(es) == 0 {
		os.Remove(dir)
	}
}
