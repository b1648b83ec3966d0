package sipptest

import (
	"strconv"
	"strings"
)

// Message is one SIP message from sipp's -trace_msg log.
type Message struct {
	Sent      bool   // false: received
	Transport string // "UDP", "TCP"
	Text      string // the message, lines joined with "\n"
}

// StartLine is the first line of the message.
func (m Message) StartLine() string {
	line, _, _ := strings.Cut(m.Text, "\n")
	return strings.TrimSpace(line)
}

// IsRequest reports whether the message is a request with the given method.
func (m Message) IsRequest(method string) bool {
	return strings.HasPrefix(m.StartLine(), method+" ")
}

// StatusCode is the status of a response, or 0 for a request.
func (m Message) StatusCode() int {
	rest, ok := strings.CutPrefix(m.StartLine(), "SIP/2.0 ")
	if !ok {
		return 0
	}
	code, _, _ := strings.Cut(rest, " ")
	n, _ := strconv.Atoi(code)
	return n
}

// Headers returns the values of every header called name (case-insensitive,
// no compact forms), in order.
func (m Message) Headers(name string) []string {
	var out []string
	head, _, _ := strings.Cut(m.Text, "\n\n")
	for i, l := range strings.Split(head, "\n") {
		if i == 0 {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// Header returns the first value of the header name, or "".
func (m Message) Header(name string) string {
	if v := m.Headers(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// ParseMessages splits a -trace_msg log into messages. Each entry starts
// with a line of dashes and a timestamp, then "UDP message sent (N bytes):"
// or "UDP message received [N] bytes :", a blank line and the message.
func ParseMessages(log string) []Message {
	var out []Message
	log = strings.ReplaceAll(log, "\r\n", "\n")
	for _, block := range strings.Split(log, "\n-----------------------------------------------") {
		_, block, ok := strings.Cut(block, "\n") // the timestamp line
		if !ok {
			continue
		}
		desc, body, ok := strings.Cut(block, "\n")
		if !ok {
			continue
		}
		fields := strings.Fields(desc)
		if len(fields) < 3 || fields[1] != "message" {
			continue
		}
		m := Message{Transport: fields[0], Sent: fields[2] == "sent"}
		if !m.Sent && fields[2] != "received" {
			continue
		}
		m.Text = strings.TrimSpace(body) + "\n"
		if i := strings.Index(m.Text, "\n\n"); i < 0 {
			m.Text += "\n"
		}
		out = append(out, m)
	}
	return out
}

// AllMessages returns every message sipp sent or received, in order.
func (r *Result) AllMessages() []Message { return ParseMessages(r.Messages) }

// Received returns the messages sipp received.
func (r *Result) Received() []Message { return filter(ParseMessages(r.Messages), false) }

// Sent returns the messages sipp sent (retransmissions included).
func (r *Result) Sent() []Message { return filter(ParseMessages(r.Messages), true) }

// ReceivedCodes returns the status codes of the responses sipp received, in order.
func (r *Result) ReceivedCodes() []int {
	var out []int
	for _, m := range r.Received() {
		if c := m.StatusCode(); c != 0 {
			out = append(out, c)
		}
	}
	return out
}

func filter(ms []Message, sent bool) []Message {
	var out []Message
	for _, m := range ms {
		if m.Sent == sent {
			out = append(out, m)
		}
	}
	return out
}
