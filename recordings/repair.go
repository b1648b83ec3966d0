package recordings

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Repaired is a recording whose header Repair fixed.
type Repaired struct {
	Path string
	// Declared is the data size the header claimed: 0 if it was never
	// rewritten, less than Data if the writer died between rewrites.
	Declared int64
	// Data is the data size now: the whole sample frames in the file.
	Data int64
	// Cut is the bytes of a partial last sample frame that were removed.
	Cut int64
	// Duration is the audio in the file now.
	Duration time.Duration
	// Size is the file's size now.
	Size int64
}

// Repair walks dir for WAV files (*.wav) whose header disagrees with
// their length — recordings a crash cut off between header rewrites —
// and fixes them: the file is cut to whole sample frames and the RIFF and
// data chunk sizes are rewritten from its length, then fsynced. It
// returns the files it repaired, by absolute path. A file it cannot read
// as WAV is left alone and reported in the error (wrapping ErrBadFile),
// after the others are done; a missing dir is no error. Run it at
// start-up, before any recording starts: a file being written looks cut
// off too.
func Repair(dir string) ([]Repaired, error) {
	reps, failed, err := repairDir(dir)
	errs := []error{err}
	for _, f := range failed {
		errs = append(errs, f.err)
	}
	if err := errors.Join(errs...); err != nil {
		return reps, fmt.Errorf("recordings: repair %s: %w", dir, err)
	}
	return reps, nil
}

// fileError is a file repairDir could not check or repair.
type fileError struct {
	path string
	err  error
}

// repairDir is Repair, reporting the files it failed on apart from the
// errors of the walk itself.
func repairDir(dir string) (reps []Repaired, failed []fileError, err error) {
	if dir, err = filepath.Abs(dir); err != nil { // the index holds absolute paths
		return nil, nil, err
	}
	var errs []error
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return filepath.SkipAll
			}
			errs = append(errs, err)
			return nil
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(path), ".wav") {
			return nil
		}
		rep, fixed, err := RepairFile(path)
		switch {
		case err != nil:
			failed = append(failed, fileError{path, err})
		case fixed:
			reps = append(reps, rep)
		}
		return nil
	})
	return reps, failed, errors.Join(append(errs, err)...)
}

// RepairFile checks one WAV file and, if its header disagrees with its
// length, repairs it as Repair does; fixed reports whether it did. A
// file whose data chunk is followed by other well-formed chunks is
// complete and left alone.
func RepairFile(path string) (rep Repaired, fixed bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return rep, false, fmt.Errorf("recordings: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("recordings: %s: %w", path, cerr)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return rep, false, fmt.Errorf("recordings: %w", err)
	}
	size := st.Size()
	info, err := probe(f, size)
	if err != nil {
		return rep, false, fmt.Errorf("%s: %w", path, err)
	}
	if info.tail {
		d := int64(info.dataSize)
		return Repaired{Path: path, Declared: d, Data: d, Size: size, Duration: bytesDuration(d, info.byteRate)}, false, nil
	}
	data := size - info.dataStart
	// The RIFF size (a 32-bit field) bounds what one file can hold.
	data = min(data, math.MaxUint32-(info.dataStart-8))
	data -= data % info.block
	end := info.dataStart + data
	riff := end - 8
	rep = Repaired{
		Path: path, Declared: int64(info.dataSize), Data: data, Cut: size - end, Size: end,
		Duration: bytesDuration(data, info.byteRate),
	}
	if int64(info.dataSize) == data && int64(info.riffSize) == riff && size == end {
		return rep, false, nil
	}
	if size != end {
		if err := f.Truncate(end); err != nil {
			return rep, false, fmt.Errorf("recordings: repair %s: %w", path, err)
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(riff))
	if _, err := f.WriteAt(b[:], riffSizeOffset); err != nil {
		return rep, false, fmt.Errorf("recordings: repair %s: %w", path, err)
	}
	binary.LittleEndian.PutUint32(b[:], uint32(data))
	if _, err := f.WriteAt(b[:], info.dataStart-4); err != nil {
		return rep, false, fmt.Errorf("recordings: repair %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return rep, false, fmt.Errorf("recordings: repair %s: %w", path, err)
	}
	return rep, true, nil
}

// RecoverIndex is what Recover needs of the index (*store.Store).
type RecoverIndex interface {
	// OpenRecordings returns the recordings still in StateRecording.
	OpenRecordings(ctx context.Context) ([]Record, error)
	// MarkRecordingRepaired sets a recording's state to StateRepaired
	// with the duration and size its file now has.
	MarkRecordingRepaired(ctx context.Context, id int64, duration time.Duration, bytes int64) error
	// MarkRecordingDeleted sets a recording's state to StateDeleted.
	MarkRecordingDeleted(ctx context.Context, id int64, at time.Time) error
}

// Recover is the start-up step for recordings a crash cut off: it runs
// Repair on dir, then marks every recording the index still has as
// recording StateRepaired, with its file's duration and size — whether
// Repair had to fix the file or its header happened to be right — or
// StateDeleted if its file is gone (logged). A file too short to hold a
// header gets a fresh one for the row's format. It returns what Repair
// repaired; the error joins every problem, after all rows are done.
func Recover(ctx context.Context, idx RecoverIndex, dir string, now time.Time, log *slog.Logger) ([]Repaired, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	open, err := idx.OpenRecordings(ctx)
	if err != nil {
		return nil, fmt.Errorf("recordings: recover: %w", err)
	}
	reps, failed, err := repairDir(dir)
	errs := []error{err}
	byPath := make(map[string]Repaired, len(reps))
	for _, r := range reps {
		byPath[r.Path] = r
		log.Warn("recording_repaired", "path", r.Path, "declared_bytes", r.Declared, "data_bytes", r.Data,
			"cut_bytes", r.Cut, "duration", r.Duration)
	}
	indexed := make(map[string]bool, len(open))
	for _, rec := range open {
		indexed[rec.Path] = true
	}
	for _, f := range failed {
		if !indexed[f.path] { // an open recording's file is dealt with below
			errs = append(errs, f.err)
		}
	}
	for _, rec := range open {
		rep, ok := byPath[rec.Path]
		if !ok {
			rep, err = measure(rec)
			if errors.Is(err, fs.ErrNotExist) {
				log.Warn("recording_file_missing", "call_id", rec.CallID, "path", rec.Path)
				if err := idx.MarkRecordingDeleted(ctx, rec.ID, now); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := idx.MarkRecordingRepaired(ctx, rec.ID, rep.Duration, rep.Size); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return reps, fmt.Errorf("recordings: recover: %w", err)
	}
	return reps, nil
}

// measure repairs (if needed) and measures the file of an open
// recording; a file shorter than a header gets a fresh one.
func measure(rec Record) (Repaired, error) {
	st, err := os.Stat(rec.Path)
	if err != nil {
		return Repaired{}, err
	}
	if st.Size() < headerSize && rec.Format.Channels() > 0 {
		h := wavHeader(rec.Format.Channels(), 0)
		if err := os.WriteFile(rec.Path, h[:], 0o640); err != nil {
			return Repaired{}, fmt.Errorf("recordings: recover %s: %w", rec.Path, err)
		}
		return Repaired{Path: rec.Path, Size: headerSize}, nil
	}
	rep, _, err := RepairFile(rec.Path)
	return rep, err
}

// bytesDuration is the audio in n bytes at byteRate bytes per second.
func bytesDuration(n, byteRate int64) time.Duration {
	return time.Duration(n * int64(time.Second) / byteRate)
}
