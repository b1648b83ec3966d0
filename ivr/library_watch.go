package ivr

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Watch polls the flows directory every interval and reloads when a flow
// file was added, removed or changed (its name, size or modification
// time). It returns when ctx ends; run it in a goroutine owned by the
// server. Polling needs only the standard library and works on every
// file system, bind mounts included. A SIGHUP handler can call Reload
// directly.
func (l *Library) Watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.poll()
		}
	}
}

// poll is one step of Watch: reload when the directory changed.
func (l *Library) poll() {
	stamp, err := dirStamp(l.dir)
	if err != nil {
		return
	}
	l.mu.Lock()
	changed := stamp != l.stamp
	l.mu.Unlock()
	if changed {
		_, _ = l.Reload()
	}
}

// dirStamp summarises the flow files of dir: names, sizes and
// modification times.
func dirStamp(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, e := range entries {
		if !isFlowFile(e) {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "%s\x00%d\x00%d\n", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), nil
}
