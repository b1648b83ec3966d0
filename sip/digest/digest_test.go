package digest

import (
	"errors"
	"testing"
	"time"
)

// Vectors from RFC 2617 §3.5 and RFC 7616 §3.9.1.
func TestResponseRFCVectors(t *testing.T) {
	tests := []struct {
		name     string
		alg      Algorithm
		realm    string
		password string
		header   string
		want     string
	}{
		{
			name: "RFC 2617 §3.5 MD5", alg: MD5, realm: "testrealm@host.com", password: "Circle Of Life",
			header: `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			want:   "6629fae49393a05397450978507c4ef1",
		},
		{
			name: "RFC 7616 §3.9.1 MD5", alg: MD5, realm: "http-auth@example.org", password: "Circle of Life",
			header: `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
			want:   "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			name: "RFC 7616 §3.9.1 SHA-256", alg: SHA256, realm: "http-auth@example.org", password: "Circle of Life",
			header: `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
			want:   "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCredentials(tt.header)
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if c.Algorithm != tt.alg {
				t.Fatalf("algorithm = %v, want %v", c.Algorithm, tt.alg)
			}
			ha1 := HA1(tt.alg, "Mufasa", tt.realm, tt.password)
			if got := Response(tt.alg, ha1, "GET", c); got != tt.want {
				t.Fatalf("Response = %s, want %s", got, tt.want)
			}
			if !Verify(ha1, "GET", c) {
				t.Fatal("Verify rejected the RFC's own response")
			}
			if Verify(HA1(tt.alg, "Mufasa", tt.realm, "wrong"), "GET", c) {
				t.Fatal("Verify accepted a wrong password")
			}
			if Verify(ha1, "POST", c) {
				t.Fatal("Verify accepted a different method")
			}
		})
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	bad := map[string]string{
		"basic scheme":    `Basic dXNlcjpwYXNz`,
		"no username":     `Digest realm="r", nonce="n", uri="sip:a", response="x"`,
		"unterminated":    `Digest username="1001, realm="r"`,
		"qop without nc":  `Digest username="a", realm="r", nonce="n", uri="sip:a", response="x", qop=auth`,
		"unknown alg":     `Digest username="a", realm="r", nonce="n", uri="sip:a", response="x", algorithm=SHA-512-256`,
		"unknown qop":     `Digest username="a", realm="r", nonce="n", uri="sip:a", response="x", qop=auth-int, nc=1, cnonce=c`,
		"param with no =": `Digest username`,
		"no response":     `Digest username="a", realm="r", nonce="n", uri="sip:a"`,
	}
	for name, h := range bad {
		if _, err := ParseCredentials(h); err == nil {
			t.Errorf("%s: ParseCredentials(%q) succeeded", name, h)
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s: error %v does not wrap a package sentinel", name, err)
		}
	}
}

func TestParseCredentialsQuoting(t *testing.T) {
	c, err := ParseCredentials(`digest  username="a\"b" ,realm=r,nonce="n,1", uri="sip:x@y;transport=tcp", response="AB", algorithm=md5`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != `a"b` || c.Realm != "r" || c.Nonce != "n,1" || c.URI != "sip:x@y;transport=tcp" || c.Algorithm != MD5 {
		t.Fatalf("parsed %+v", c)
	}
}

func TestNonces(t *testing.T) {
	n, err := NewNonces(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	nonce := n.Issue(t0)
	if len(nonce) != NonceLen {
		t.Fatalf("len(nonce) = %d, want %d", len(nonce), NonceLen)
	}
	if s := n.Check(nonce, t0.Add(29*time.Second)); s != NonceValid {
		t.Fatalf("fresh nonce: %v", s)
	}
	if s := n.Check(nonce, t0.Add(31*time.Second)); s != NonceStale {
		t.Fatalf("old nonce: %v", s)
	}
	tampered := []byte(nonce)
	tampered[3] ^= 1
	if s := n.Check(string(tampered), t0); s != NonceInvalid {
		t.Fatalf("tampered nonce: %v", s)
	}
	other, _ := NewNonces(30 * time.Second)
	if s := other.Check(nonce, t0); s != NonceInvalid {
		t.Fatalf("nonce from another secret: %v", s)
	}
	for _, junk := range []string{"", "x", "!!!!", nonce + "A"} {
		if s := n.Check(junk, t0); s != NonceInvalid {
			t.Fatalf("Check(%q) = %v", junk, s)
		}
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	got := Challenge(SHA256, "switchd", "abc", true)
	want := `Digest realm="switchd", nonce="abc", algorithm=SHA-256, qop="auth", stale=true`
	if got != want {
		t.Fatalf("Challenge = %s", got)
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="1001", realm="switchd", nonce="n", uri="sip:127.0.0.1:5060", response="0123", algorithm=MD5, qop=auth, nc=00000001, cnonce="c"`)
	f.Add(`Digest username="a\"b", realm=r, nonce="n,1", uri=u, response=x`)
	f.Add(`Digest ,,,=`)
	f.Add(`Digest a="\`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			return
		}
		if c.Username == "" || c.Nonce == "" || c.Response == "" || c.URI == "" {
			t.Fatalf("accepted credentials missing a mandatory field: %+v", c)
		}
		_ = Verify("00", "REGISTER", c)
	})
}
