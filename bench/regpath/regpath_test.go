// Package regpath benchmarks switchd's REGISTER path in process (parse,
// registrar with digest auth, response rendering), without sockets or
// SQLite, to measure CPU and allocations per authenticated registration.
//
//	go test ./bench/regpath -bench . -benchmem
package regpath

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/sip/digest"
)

type memCreds map[string]sip.Credentials

func (m memCreds) Credentials(_ context.Context, user string) (sip.Credentials, error) {
	c, ok := m[user]
	if !ok {
		return sip.Credentials{}, sip.ErrUnknownUser
	}
	return c, nil
}

const users = 1000

func register(user string, cseq int, auth string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-%s-%d;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:%s@127.0.0.1>;tag=1234SIPpTag00%d\r\n"+
		"To: <sip:%s@127.0.0.1>\r\n"+
		"Call-ID: %d-%s@127.0.0.1\r\n"+
		"CSeq: %d REGISTER\r\n"+
		"Contact: <sip:%s@127.0.0.1:5061;transport=UDP>\r\n", user, cseq, user, cseq, user, cseq, user, cseq, user)
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	b.WriteString("Expires: 3600\r\nUser-Agent: sipp\r\nContent-Length: 0\r\n\r\n")
	return b.Bytes()
}

var nonceRE = regexp.MustCompile(`nonce="([^"]+)"`)

func BenchmarkRegistration(b *testing.B) {
	cfg := sip.DefaultConfig()
	creds := memCreds{}
	for i := range users {
		u := fmt.Sprint(100000 + i)
		creds[u] = sip.Credentials{Realm: cfg.Realm, HA1MD5: digest.HA1(digest.MD5, u, cfg.Realm, "pw"+u),
			HA1SHA256: digest.HA1(digest.SHA256, u, cfg.Realm, "pw"+u)}
	}
	log := slog.New(slog.DiscardHandler)
	guard := sip.NewGuard(cfg.Ban)
	auth, err := sip.NewAuthenticator(cfg, creds, guard, time.Now, log)
	if err != nil {
		b.Fatal(err)
	}
	reg := sip.NewRegistrar(cfg, auth, sip.NewBindingTable(cfg.MaxContactsPerAOR, func(sip.Change) {}), time.Now, log, "switchd/bench")
	parser := gosip.NewParser()
	src := sip.Source{Addr: netip.MustParseAddrPort("127.0.0.1:5061"), Transport: "udp", Local: "127.0.0.1:5060"}
	ctx := context.Background()

	// One challenge gives a nonce valid for the whole run; precompute the
	// authenticated REGISTERs for every user.
	handle := func(data []byte, out *bytes.Buffer) *gosip.Response {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			b.Fatal(err)
		}
		req := msg.(*gosip.Request)
		req.SetTransport("UDP")
		req.SetSource(src.Addr.String())
		res := reg.Register(ctx, req, src)
		out.Reset()
		res.StringWrite(out)
		return res
	}
	var out bytes.Buffer
	first := make([][]byte, users)
	second := make([][]byte, users)
	for i := range users {
		u := fmt.Sprint(100000 + i)
		first[i] = register(u, 1, "")
		res := handle(first[i], &out)
		m := nonceRE.FindStringSubmatch(res.GetHeader("WWW-Authenticate").Value())
		if res.StatusCode != 401 || m == nil {
			b.Fatalf("first REGISTER: %d", res.StatusCode)
		}
		c := &digest.Credentials{Username: u, Realm: cfg.Realm, Nonce: m[1], URI: "sip:127.0.0.1:5060",
			Algorithm: digest.MD5, QOP: "auth", NC: "00000001", CNonce: "6b8b4567"}
		resp := digest.Response(digest.MD5, creds[u].HA1MD5, "REGISTER", c)
		second[i] = register(u, 2, fmt.Sprintf(`Digest username="%s",realm="%s",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="%s",response="%s",algorithm=MD5`,
			u, cfg.Realm, m[1], resp))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := i % users
		if res := handle(first[u], &out); res.StatusCode != 401 {
			b.Fatalf("first REGISTER: %d", res.StatusCode)
		}
		if res := handle(second[u], &out); res.StatusCode != 200 {
			b.Fatalf("second REGISTER: %d %s", res.StatusCode, res.Reason)
		}
	}
}
