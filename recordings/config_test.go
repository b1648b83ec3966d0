package recordings

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
)

// TestConfigDefaults: the defaults are valid, record nothing, and give
// the default writer options.
func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("defaults invalid: %v", ps)
	}
	if c.Wants("sales", "1001") {
		t.Fatal("mode off records")
	}
	o := c.Options()
	if o.Format != Stereo || o.HeaderInterval != DefaultHeaderInterval || o.Queue != DefaultQueue {
		t.Fatalf("options %+v", o)
	}
	if got := c.Path("/var/lib/switchd"); got != filepath.Join("/var/lib/switchd", "recordings") {
		t.Fatalf("path %s", got)
	}
	c.Dir = "/srv/rec"
	if got := c.Path("/var/lib/switchd"); got != "/srv/rec" {
		t.Fatalf("absolute path %s", got)
	}
}

// TestConfigValidate reports every problem with its key.
func TestConfigValidate(t *testing.T) {
	c := Config{Mode: "sometimes", Format: "quad", Dir: "", RetentionDays: -1, Queues: []string{""},
		HeaderInterval: config.Duration(100 * time.Millisecond), Buffer: config.Duration(-time.Second)}
	var got []string
	for _, p := range c.Validate() {
		got = append(got, p.Path)
	}
	if want := "mode format queues[0] dir retention_days header_interval buffer"; strings.Join(got, " ") != want {
		t.Fatalf("problems at %v, want %s", got, want)
	}
	c = DefaultConfig()
	c.Mode = "extensions"
	if ps := c.Validate(); len(ps) != 1 || ps[0].Path != "extensions" {
		t.Fatalf("extensions mode without extensions: %v", ps)
	}
}

// TestConfigWants: which calls each mode records.
func TestConfigWants(t *testing.T) {
	for _, c := range []struct {
		mode        string
		queues, ext []string
		queue       string
		exts        []string
		want        bool
	}{
		{"always", nil, nil, "", nil, true},
		{"queues", nil, nil, "sales", nil, true},
		{"queues", nil, nil, "", []string{"1001"}, false},
		{"queues", []string{"support"}, nil, "sales", nil, false},
		{"queues", []string{"support", "sales"}, nil, "sales", nil, true},
		{"extensions", nil, []string{"1001"}, "sales", []string{"+441", "1001"}, true},
		{"extensions", nil, []string{"1001"}, "sales", []string{"1002", ""}, false},
	} {
		cfg := Config{Mode: c.mode, Queues: c.queues, Extensions: c.ext}
		if got := cfg.Wants(c.queue, c.exts...); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}
