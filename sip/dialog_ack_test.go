package sip

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// TestRetransmit2xxUntilAck: a 2xx to a re-INVITE is sent again at T1,
// then 2·T1 later (RFC 3261 §13.3.1.4), over UDP, until its ACK arrives —
// then never again.
func TestRetransmit2xxUntilAck(t *testing.T) {
	s, srvAddr, _ := startTrunkRegServer(t)
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	// The phone has sent switchd a request through the transaction layer
	// before (as it did with its re-INVITE); this BYE gets 481.
	opt := "BYE sip:switchd@" + srvAddr.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + phone.LocalAddr().String() + ";branch=z9hG4bKbye1\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=o\r\nTo: <sip:switchd@127.0.0.1>;tag=x\r\n" +
		"Call-ID: retransmit-test-bye\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := phone.WriteToUDP([]byte(opt), net.UDPAddrFromAddrPort(srvAddr)); err != nil {
		t.Fatal(err)
	}
	phone.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := phone.ReadFromUDP(make([]byte, 2048)); err != nil {
		t.Fatalf("no answer to BYE: %v", err)
	}
	raw := "INVITE sip:switchd@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + phone.LocalAddr().String() + ";branch=z9hG4bKreinv1\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:1002@127.0.0.1>;tag=b\r\n" +
		"Call-ID: retransmit-test\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n"
	req, err := gosip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	res := gosip.NewResponseFromRequest(req.(*gosip.Request), 200, "OK", nil)
	res.SetTransport("UDP")
	res.SetDestination(phone.LocalAddr().String())

	d := &dialogState{}
	acked := d.expectAck(7)
	result := make(chan error, 1)
	start := time.Now()
	go func() { result <- s.retransmit2xx(context.Background(), res, acked) }()

	var arrivals []time.Duration
	buf := make([]byte, 2048)
	phone.SetReadDeadline(start.Add(1800 * time.Millisecond))
	for {
		n, _, err := phone.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200 OK") {
			t.Fatalf("phone got %q", buf[:n])
		}
		arrivals = append(arrivals, time.Since(start))
	}
	// Retransmissions at ~0.5 s and ~1.5 s (T1, then T1 + 2·T1).
	if len(arrivals) != 2 || arrivals[0] < 400*time.Millisecond || arrivals[1] < 1300*time.Millisecond {
		t.Fatalf("2xx retransmitted at %v, want two: ~500ms and ~1.5s", arrivals)
	}
	d.acked(7)
	d.acked(7) // a retransmitted ACK changes nothing
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("retransmit2xx after the ACK came: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("retransmit2xx went on after the ACK")
	}
	phone.SetReadDeadline(time.Now().Add(2500 * time.Millisecond))
	if n, _, err := phone.ReadFromUDP(buf); err == nil {
		t.Fatalf("2xx retransmitted after the ACK: %q", buf[:n])
	}
}
