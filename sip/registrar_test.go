package sip

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/sip/digest"
)

var update = flag.Bool("update", false, "rewrite golden files")

type fakeCreds map[string]Credentials

func (f fakeCreds) Credentials(_ context.Context, user string) (Credentials, error) {
	c, ok := f[user]
	if !ok {
		return Credentials{}, ErrUnknownUser
	}
	return c, nil
}

func credsFor(realm string, users map[string]string) fakeCreds {
	f := fakeCreds{}
	for u, pw := range users {
		f[u] = Credentials{Realm: realm, HA1MD5: digest.HA1(digest.MD5, u, realm, pw), HA1SHA256: digest.HA1(digest.SHA256, u, realm, pw)}
	}
	return f
}

var testSource = Source{Addr: netip.MustParseAddrPort("192.0.2.10:5060"), Transport: "udp", Local: "192.0.2.1:5060"}

// newTestRegistrar returns a registrar with a fixed nonce secret and clock,
// so its answers are reproducible.
func newTestRegistrar(t testing.TB) (*Registrar, *Guard) {
	cfg := DefaultConfig()
	cfg.AuthAlgorithms = []string{"MD5", "SHA-256"}
	now := func() time.Time { return t0 }
	log := slog.New(slog.DiscardHandler)
	guard := NewGuard(cfg.Ban)
	auth, err := NewAuthenticator(cfg, credsFor(cfg.Realm, map[string]string{"1001": "s3cret", "1002": "other-pw"}), guard, now, log)
	if err != nil {
		t.Fatal(err)
	}
	auth.nonces = digest.NewNoncesWithKey([32]byte{1, 2, 3}, cfg.NonceTTL.D())
	return NewRegistrar(cfg, auth, NewBindingTable(cfg.MaxContactsPerAOR, nil), now, log, ""), guard
}

// expandAuto replaces "Authorization: AUTO user=U password=P [alg=A] [nonce=stale|bogus]"
// with real credentials for the request.
func expandAuto(t *testing.T, r *Registrar, raw string) string {
	var out []string
	lines := strings.Split(raw, "\n")
	method, uri, _ := strings.Cut(lines[0], " ")
	uri, _, _ = strings.Cut(uri, " ")
	for _, line := range lines {
		spec, ok := strings.CutPrefix(line, "Authorization: AUTO ")
		if !ok {
			out = append(out, line)
			continue
		}
		kv := map[string]string{"alg": "MD5"}
		for _, f := range strings.Fields(spec) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		alg, _ := digest.ParseAlgorithm(kv["alg"])
		nonce := r.auth.nonces.Issue(t0)
		switch kv["nonce"] {
		case "stale":
			nonce = r.auth.nonces.Issue(t0.Add(-time.Hour))
		case "bogus":
			nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
		c := &digest.Credentials{Username: kv["user"], Realm: r.auth.realm, Nonce: nonce, URI: uri, Algorithm: alg,
			QOP: "auth", NC: "00000001", CNonce: "0a4f113b"}
		resp := digest.Response(alg, digest.HA1(alg, kv["user"], r.auth.realm, kv["password"]), method, c)
		out = append(out, fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, qop=auth, nc=00000001, cnonce="0a4f113b"`,
			c.Username, c.Realm, nonce, uri, resp, alg))
	}
	return strings.Join(out, "\n")
}

// summary renders the parts of a response the golden files pin down.
func summary(res *gosip.Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\n", res.StatusCode, res.Reason)
	for _, name := range []string{"Contact", "WWW-Authenticate", "Min-Expires", "Unsupported"} {
		for _, h := range res.GetHeaders(name) {
			fmt.Fprintf(&b, "%s: %s\n", name, h.Value())
		}
	}
	return b.String()
}

func crlf(s string) string {
	s = strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n")
	if !strings.HasSuffix(s, "\r\n\r\n") {
		s = strings.TrimRight(s, "\r\n") + "\r\n\r\n"
	}
	return s
}

// TestRegisterGolden feeds each testdata/register/*.txt request (after a
// "-----" line, the expected response summary) to a fresh registrar.
func TestRegisterGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/register/*.txt")
	if len(files) < 10 {
		t.Fatalf("only %d golden files", len(files))
	}
	for _, golden := range files {
		t.Run(strings.TrimSuffix(filepath.Base(golden), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(raw), "-----\n")
			if !ok {
				t.Fatal("no ----- separator")
			}
			r, _ := newTestRegistrar(t)
			msg, err := gosip.ParseMessage([]byte(crlf(expandAuto(t, r, input))))
			if err != nil {
				t.Fatalf("test input does not parse: %v", err)
			}
			res := r.Register(context.Background(), msg.(*gosip.Request), testSource)
			got := summary(res)
			if *update {
				os.WriteFile(golden, []byte(input+"-----\n"+got), 0o644)
				return
			}
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestRegisterBindsSourceAndCountsFailures(t *testing.T) {
	r, guard := newTestRegistrar(t)
	req := func(pw string, cseq int) *gosip.Request {
		raw := fmt.Sprintf("REGISTER sip:192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK%d;rport\nFrom: <sip:1001@192.0.2.1>;tag=a\nTo: <sip:1001@192.0.2.1>\nCall-ID: c1\nCSeq: %d REGISTER\nContact: <sip:1001@10.0.0.5:5060>\nAuthorization: AUTO user=1001 password=%s\nContent-Length: 0\n", cseq, cseq, pw)
		m, err := gosip.ParseMessage([]byte(crlf(expandAuto(t, r, raw))))
		if err != nil {
			t.Fatal(err)
		}
		return m.(*gosip.Request)
	}
	if res := r.Register(context.Background(), req("s3cret", 1), testSource); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	b := r.Table().Lookup("1001")
	if len(b) != 1 || b[0].Source != testSource.Addr || b[0].Contact != "sip:1001@10.0.0.5:5060" || b[0].Local != testSource.Local {
		t.Fatalf("binding %+v", b)
	}
	for i := range 10 {
		if res := r.Register(context.Background(), req("wrong", i+2), testSource); res.StatusCode != 403 {
			t.Fatalf("bad password: status %d", res.StatusCode)
		}
	}
	if !guard.Banned(testSource.Addr.Addr(), t0) {
		t.Fatal("10 failures did not ban the source")
	}
}

func FuzzRegister(f *testing.F) {
	files, _ := filepath.Glob("testdata/register/*.txt")
	for _, g := range files {
		raw, _ := os.ReadFile(g)
		in, _, _ := strings.Cut(string(raw), "-----\n")
		f.Add([]byte(crlf(in)))
	}
	r, _ := newTestRegistrar(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := gosip.ParseMessage(data)
		if err != nil {
			return
		}
		req, ok := msg.(*gosip.Request)
		if !ok {
			return
		}
		res := r.Register(context.Background(), req, testSource)
		if res == nil || res.StatusCode < 200 || res.StatusCode > 699 {
			t.Fatalf("bad response %v", res)
		}
		if res.StatusCode == 200 && req.GetHeader("Authorization") == nil {
			t.Fatal("200 without credentials")
		}
	})
}
