// Command acd-bench measures the ACD's routing decision latency through the
// Engine's public API, with no test framework: 50 queues, 1,000 agents in
// three queues each with skills, every agent busy and 10,000 contacts
// waiting; then, repeatedly, one agent's contact ends (ContactEnded, which
// returns once the engine has routed the best waiting contact to the freed
// agent) and a new contact arrives. It prints p50/p90/p99/max of the
// ContactEnded round trip (the decision plus two goroutine hand-offs) and
// of Enqueue.
//
//	go run ./acd/cmd/acd-bench -decisions 20000
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
)

// answerer accepts every offer at once and remembers answered contacts.
type answerer struct {
	e  *acd.Engine
	mu sync.Mutex
	up []call.ID
}

func (a *answerer) Offer(ctx context.Context, o acd.Offer) {
	if err := a.e.OfferAccepted(ctx, o.Contact, o.Agent); err == nil {
		a.mu.Lock()
		a.up = append(a.up, o.Contact)
		a.mu.Unlock()
	}
}
func (a *answerer) Withdraw(context.Context, acd.Withdrawal)   {}
func (a *answerer) Overflow(context.Context, acd.Exit)         {}
func (a *answerer) Announce(context.Context, acd.Announcement) {}

func main() {
	decisions := flag.Int("decisions", 20000, "routing decisions to time")
	waiting := flag.Int("waiting", 10000, "contacts waiting")
	agents := flag.Int("agents", 1000, "agents")
	queues := flag.Int("queues", 50, "queues")
	flag.Parse()

	strategies := []acd.Strategy{acd.StrategyLongestIdle, acd.StrategySkills, acd.StrategyRoundRobin,
		acd.StrategyFewestContacts, acd.StrategyLeastTalkTime, acd.StrategyLinear, acd.StrategyRandom}
	var cfg acd.Config
	for i := range *queues {
		cfg.Queues = append(cfg.Queues, acd.QueueConfig{
			Name: fmt.Sprintf("q%02d", i), Strategy: strategies[i%len(strategies)],
			Skills:        map[string]int{fmt.Sprintf("s%d", i%10): 2},
			Relax:         []acd.RelaxStep{{After: config.Duration(30 * time.Second), MinProficiency: 1}},
			PriorityAging: acd.Aging{Every: config.Duration(30 * time.Second), Step: 1},
		})
	}
	r := rand.New(rand.NewPCG(7, 7))
	conn := &answerer{}
	var profiles []acd.Agent
	for i := range *agents {
		a := acd.Agent{ID: acd.AgentID(fmt.Sprintf("a%04d", i)), Skills: map[string]int{}}
		for j := range 3 {
			q := (i*7 + j*17) % *queues
			a.Queues = append(a.Queues, acd.Membership{Queue: fmt.Sprintf("q%02d", q), Penalty: r.IntN(2)})
			a.Skills[fmt.Sprintf("s%d", q%10)] = 1 + r.IntN(5)
		}
		profiles = append(profiles, a)
	}
	e, err := acd.New(cfg, conn, acd.WithAgents(profiles...))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	conn.e = e
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	for _, a := range profiles {
		if err := e.Login(ctx, a.ID); err != nil {
			panic(err)
		}
	}
	n := 0
	enqueue := func() time.Duration {
		n++
		start := time.Now()
		_, err := e.Enqueue(ctx, acd.Contact{ID: call.ID(fmt.Sprintf("c%07d", n)), Medium: call.MediumVoice,
			Queue: fmt.Sprintf("q%02d", r.IntN(*queues)), Priority: []int{0, 0, 0, 5}[r.IntN(4)]})
		if err != nil {
			panic(err)
		}
		return time.Since(start)
	}
	for range *waiting + *agents {
		enqueue()
	}
	time.Sleep(100 * time.Millisecond) // let the answers land
	st, _ := e.Status(ctx)
	w := 0
	for _, q := range st.Queues {
		w += q.Waiting
	}
	fmt.Printf("setup: %d queues, %d agents, %d contacts waiting\n", len(st.Queues), len(st.Agents), w)

	var ended, enq []time.Duration
	for range *decisions {
		conn.mu.Lock()
		i := r.IntN(len(conn.up))
		id := conn.up[i]
		conn.up[i] = conn.up[len(conn.up)-1]
		conn.up = conn.up[:len(conn.up)-1]
		conn.mu.Unlock()
		start := time.Now()
		if err := e.ContactEnded(ctx, id, 0); err != nil {
			panic(err)
		}
		ended = append(ended, time.Since(start))
		enq = append(enq, enqueue())
		for {
			conn.mu.Lock()
			ok := len(conn.up) >= *agents-5
			conn.mu.Unlock()
			if ok {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	cancel()
	<-done
	report("ContactEnded → next offer (routing decision)", ended)
	report("Enqueue (no agent free)", enq)
}

func report(name string, d []time.Duration) {
	slices.Sort(d)
	p := func(q float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*q))] }
	fmt.Printf("%-45s n=%d p50=%s p90=%s p99=%s max=%s\n", name, len(d),
		p(0.50).Round(time.Microsecond), p(0.90).Round(time.Microsecond), p(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
}
