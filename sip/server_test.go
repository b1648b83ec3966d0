package sip

import "testing"

func TestLooksLikeSIP(t *testing.T) {
	yes := []string{"REGISTER sip:a SIP/2.0\r\n", "INVITE sips:b@c SIP/2.0", "SIP/2.0 200 OK\r\n", "X-CUSTOM tel:+1 SIP/2.0"}
	no := []string{"", "\r\n\r\n", "GET / HTTP/1.1", "register sip:a", "REGISTERsip:a", "\x00\x01\x02", "AAAAAAAAAAAAAAAAAAAAAAAA sip:"}
	for _, s := range yes {
		if !looksLikeSIP([]byte(s)) {
			t.Errorf("looksLikeSIP(%q) = false", s)
		}
	}
	for _, s := range no {
		if looksLikeSIP([]byte(s)) {
			t.Errorf("looksLikeSIP(%q) = true", s)
		}
	}
}
