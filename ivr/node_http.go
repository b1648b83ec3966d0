package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var httpKeys = []string{"method", "url", "headers", "body", "timeout", "map", "next", "failure"}

// Bounds of http nodes.
const (
	defaultHTTPTimeout = 3 * time.Second
	maxHTTPTimeout     = 30 * time.Second
	maxHTTPBody        = 1 << 20
)

var (
	httpMethods  = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	jsonPathRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+(\[[0-9]+\])*(\.[A-Za-z0-9_-]+(\[[0-9]+\])*)*$`)
)

// httpNode calls a webhook and maps fields of its JSON answer into
// variables: next on a 2xx answer, failure on anything else (an error, a
// timeout, another status, a body that is not JSON when fields are mapped).
type httpNode struct {
	method  string
	url     template
	headers []httpHeader
	body    *template
	timeout time.Duration
	mapping []jsonField
	next    string
	failure string
}

type httpHeader struct {
	name string
	val  template
}

// jsonField maps the value at a JSON path ("data.items[0].name") to a variable.
type jsonField struct {
	v    string
	path string
}

func parseHTTP(np *nodeParser) action {
	a := &httpNode{
		method:  "GET",
		timeout: np.duration("timeout", defaultHTTPTimeout, 100*time.Millisecond, maxHTTPTimeout),
		next:    np.ref("next", true),
		failure: np.ref("failure", true),
	}
	if s, ok := np.str("method"); ok {
		m := strings.ToUpper(s)
		if !slices.Contains(httpMethods, m) {
			np.p.errf(np.val["method"], np.at("method"), "%q is not a method (%s)", s, strings.Join(httpMethods, ", "))
		}
		a.method = m
	}
	if s := np.required("url"); s != "" {
		if t, ok := np.tmplOf(s, np.val["url"], np.at("url")); ok {
			a.url = t
			if err := checkURL(t); err != nil {
				np.p.errf(np.val["url"], np.at("url"), "%v", err)
			}
		}
	}
	hs := np.p.object(np.val["headers"], np.at("headers"), nil)
	for _, k := range hs.keys {
		if !headerNameRE.MatchString(k) {
			np.p.errf(hs.key[k], hs.at(k), "%q is not a header name", k)
			continue
		}
		s, _ := hs.str(k)
		if t, ok := np.tmplOf(s, hs.val[k], hs.at(k)); ok {
			a.headers = append(a.headers, httpHeader{name: k, val: t})
		}
	}
	if np.has("body") {
		if a.method == "GET" || a.method == "DELETE" {
			np.p.errf(np.key["body"], np.at("body"), "a %s request has no body (use POST, PUT or PATCH)", a.method)
		}
		if t, ok := np.tmpl("body"); ok {
			a.body = &t
		}
	}
	m := np.p.object(np.val["map"], np.at("map"), nil)
	for _, k := range m.keys {
		if !np.setVar(k, m.key[k], m.at(k)) {
			continue
		}
		p, _ := m.str(k)
		if !jsonPathRE.MatchString(p) {
			np.p.errf(m.val[k], m.at(k), "%q is not a JSON path (field.sub[0].name)", p)
			continue
		}
		a.mapping = append(a.mapping, jsonField{v: k, path: p})
	}
	return a
}

// checkURL checks that a url template is an absolute http(s) URL whose
// scheme and host are literal.
func checkURL(t template) error {
	if len(t.parts) == 0 || t.parts[0].v != "" {
		return errors.New("must be an absolute http:// or https:// URL (variables only after the host)")
	}
	u, err := url.Parse(t.expand(func(string) string { return "x" }, nil))
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("must be an absolute http:// or https:// URL")
	}
	head := t.parts[0].lit
	rest, _ := strings.CutPrefix(strings.TrimPrefix(head, u.Scheme), "://")
	if len(t.parts) > 1 && !strings.ContainsAny(rest, "/?#") {
		return errors.New("the host of the URL must be literal (variables only in the path and query)")
	}
	return nil
}

// urlEscape escapes a value for any part of a URL (path or query).
func urlEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// jsonEscape escapes a value to be placed inside a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// headerEscape keeps line breaks out of header values.
func headerEscape(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

func (a *httpNode) exec(ctx context.Context, r *run) result {
	vals, status, err := a.call(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return result{out: r.aborted(ctx)}
		}
		r.log.Warn("ivr_http_failed", "node", r.node.name, "url", a.url.String(), "status", status, "error", err)
		return result{next: a.failure, reason: "failure"}
	}
	for _, f := range a.mapping {
		r.assign(f.v, vals[f.v], false)
	}
	return result{next: a.next, reason: "next"}
}

// call makes the request and returns the mapped values and the status.
func (a *httpNode) call(ctx context.Context, r *run) (map[string]string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var body io.Reader
	if a.body != nil {
		body = strings.NewReader(a.body.expand(r.lookup, jsonEscape))
	}
	req, err := http.NewRequestWithContext(ctx, a.method, a.url.expand(r.lookup, urlEscape), body)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	if a.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range a.headers {
		req.Header.Set(h.name, headerEscape(h.val.expand(r.lookup, nil)))
	}
	client := r.env.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, fmt.Errorf("%w: %d", ErrHTTPStatus, resp.StatusCode)
	}
	if len(data) > maxHTTPBody {
		return nil, resp.StatusCode, fmt.Errorf("answer larger than %d bytes", maxHTTPBody)
	}
	vals := map[string]string{}
	if len(a.mapping) == 0 {
		return vals, resp.StatusCode, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("answer is not JSON: %w", err)
	}
	for _, f := range a.mapping {
		vals[f.v] = jsonString(jsonLookup(doc, f.path))
	}
	return vals, resp.StatusCode, nil
}

// jsonLookup returns the value at path in doc (nil when absent).
func jsonLookup(doc any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		key, idx, _ := strings.Cut(seg, "[")
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[key]
		for idx != "" {
			n, rest, _ := strings.Cut(idx, "]")
			i, _ := strconv.Atoi(n)
			l, ok := doc.([]any)
			if !ok || i >= len(l) {
				return nil
			}
			doc = l[i]
			idx = strings.TrimPrefix(rest, "[")
		}
	}
	return doc
}

// jsonString is a JSON value as a variable: text as is, numbers and
// booleans as written, null or absent as "", objects and lists as JSON.
func jsonString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
