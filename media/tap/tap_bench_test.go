package tap

import (
	"fmt"
	"sync"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// BenchmarkPublish measures Publish with 0, 1 and 4 subscribers that
// keep up (each drained by its own goroutine) and with 4 stalled ones
// (every frame dropped). Publish allocates nothing in any case.
func BenchmarkPublish(b *testing.B) {
	for _, c := range []struct {
		subs    int
		stalled bool
	}{{0, false}, {1, false}, {4, false}, {4, true}} {
		name := fmt.Sprintf("subs=%d", c.subs)
		if c.stalled {
			name += "/stalled"
		}
		b.Run(name, func(b *testing.B) {
			p := NewPoint()
			var wg sync.WaitGroup
			for range c.subs {
				s := p.Subscribe(DefaultDepth, In)
				if !c.stalled {
					wg.Go(func() {
						for range s.C() {
						}
					})
				}
			}
			var f audio.Frame
			b.ReportAllocs()
			for b.Loop() {
				p.Publish(In, &f, t0)
			}
			b.StopTimer()
			p.Close()
			wg.Wait()
		})
	}
}

// BenchmarkActive is the check the media path makes per frame.
func BenchmarkActive(b *testing.B) {
	p := NewPoint()
	b.ReportAllocs()
	for b.Loop() {
		if p.Active() {
			b.Fatal("active")
		}
	}
}
