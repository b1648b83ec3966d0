package sip

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the SIP counters exported on /metrics.
type Metrics struct {
	requests  *prometheus.CounterVec
	responses *prometheus.CounterVec
	dropped   *prometheus.CounterVec

	mu        sync.RWMutex
	cache     map[string]prometheus.Counter // method or drop reason → child, to keep label hashing off the hot path
	respCache map[respKey]prometheus.Counter
}

// respKey identifies a responses counter without formatting the code.
type respKey struct {
	method string
	code   int
}

// NewMetrics registers the SIP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchd_sip_requests_total", Help: "SIP requests received, by method.",
		}, []string{"method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchd_sip_responses_total", Help: "SIP responses sent, by request method and status code.",
		}, []string{"method", "code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchd_sip_dropped_total", Help: "SIP messages dropped without an answer, by reason.",
		}, []string{"reason"}),
		cache:     make(map[string]prometheus.Counter),
		respCache: make(map[respKey]prometheus.Counter),
	}
	reg.MustRegister(m.requests, m.responses, m.dropped)
	return m
}

func (m *Metrics) counter(vec *prometheus.CounterVec, key string, labels ...string) prometheus.Counter {
	m.mu.RLock()
	c, ok := m.cache[key]
	m.mu.RUnlock()
	if ok {
		return c
	}
	c = vec.WithLabelValues(labels...)
	m.mu.Lock()
	if len(m.cache) < 1024 { // methods and codes from the wire are bounded by this
		m.cache[key] = c
	}
	m.mu.Unlock()
	return c
}

func (m *Metrics) request(method string) {
	m.counter(m.requests, method, method).Inc()
}

func (m *Metrics) response(method string, code int) {
	k := respKey{method, code}
	m.mu.RLock()
	c, ok := m.respCache[k]
	m.mu.RUnlock()
	if !ok {
		cs := strconv.Itoa(code)
		c = m.responses.WithLabelValues(method, cs)
		m.mu.Lock()
		if len(m.respCache) < 1024 { // methods and codes from the wire are bounded by this
			m.respCache[k] = c
		}
		m.mu.Unlock()
	}
	c.Inc()
}

func (m *Metrics) drop(reason string) {
	m.counter(m.dropped, "drop "+reason, reason).Inc()
}
