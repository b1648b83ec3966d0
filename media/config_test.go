package media

import (
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/config"
)

func TestDefaultConfigValid(t *testing.T) {
	cfg := DefaultConfig()
	if ps := cfg.Validate(); len(ps) != 0 {
		t.Fatalf("default config: %v", ps)
	}
	if cfg.BindAddress != "0.0.0.0" || cfg.RTPTimeout.D().String() != "1m0s" || cfg.RTCPInterval.D().String() != "5s" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestConfigProblems(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RTPPorts = config.PortRange{Min: 10001, Max: 10002}
	cfg.BindAddress = "localhost"
	cfg.AdvertiseAddress = "0.0.0.0"
	cfg.RTPTimeout = -1
	cfg.RTCPInterval = -1
	var got []string
	for _, p := range cfg.Validate() {
		got = append(got, p.Path+": "+p.Msg)
	}
	want := []string{
		"rtp_ports: the range must hold at least one RTP/RTCP port pair",
		`advertise_address: "0.0.0.0" is not a usable IP address`,
		`bind_address: "localhost" is not an IP address (use 0.0.0.0 for every address)`,
		"rtp_timeout: must not be negative (0s disables)",
		"rtcp_interval: must not be negative (0s disables)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := NewEngine(cfg, nil); err == nil || !strings.Contains(err.Error(), "bind_address") {
		t.Fatalf("NewEngine with a bad config: %v", err)
	}
}

func TestDecodeSection(t *testing.T) {
	cfg := DefaultConfig()
	err := config.Decode("m.yaml", []byte("bind_address: \"::\"\nrtp_timeout: 0s\nrtcp_interval: 2s\n"), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BindAddress != "::" || cfg.RTPTimeout != 0 || cfg.RTCPInterval.D().Seconds() != 2 {
		t.Fatalf("decoded %+v", cfg)
	}
}
