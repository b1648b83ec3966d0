package prompt

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// TestPlaylist plays a file, a silence, a custom tone and a beep and checks
// every frame.
func TestPlaylist(t *testing.T) {
	dir := t.TempDir()
	samples := ramp(400, 100) // 2.5 frames → 3
	file := wavFile(t, dir, "greeting.wav", samples)
	p := NewPlayer(Config{Region: "us"})
	pr := Prompt{Items: []Item{
		{File: file},
		{Silence: 100 * time.Millisecond}, // 5 frames
		{ToneSpec: &audio.ToneSpec{Freqs: []float64{1000}, Level: -13}, Duration: 90 * time.Millisecond}, // 4.5 → 5 frames
		{Tone: "beep"}, // one cadence: 400 ms, 20 frames
	}}
	want := 3 + 5 + 5 + 20
	if d, err := p.PromptDuration(pr); err != nil || d != time.Duration(want)*audio.FrameDuration {
		t.Fatalf("PromptDuration = %v, %v; want %v", d, err, time.Duration(want)*audio.FrameDuration)
	}
	if err := p.Start(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	done := p.Done()
	var f audio.Frame
	for i := range want {
		noResult(t, done)
		f[0] = 12345 // must be overwritten
		if !p.Next(&f) {
			t.Fatalf("frame %d: Next = false", i)
		}
		switch {
		case i < 3:
			if f != frameOf(samples, i) {
				t.Fatalf("frame %d: not the file's samples", i)
			}
		case i < 8:
			if !isSilent(&f) {
				t.Fatalf("frame %d: not silence", i)
			}
		default:
			on, off := toneDBm0(&f, 1000), toneDBm0(&f, 1500)
			if on < -16 || on > -12 || off > -40 {
				t.Fatalf("frame %d: 1000 Hz at %.1f dBm0, 1500 Hz at %.1f dBm0", i, on, off)
			}
		}
	}
	r := result(t, done)
	if !r.Completed || r.Err != nil || r.Played != time.Duration(want)*audio.FrameDuration {
		t.Fatalf("Result = %+v", r)
	}
	if _, ok := <-done; ok {
		t.Fatal("Done not closed after the Result")
	}
	f[0] = 1
	if p.Next(&f) || !isSilent(&f) || p.Playing() {
		t.Fatal("idle Player does not give silence")
	}
}

// TestStopMidPrompt stops a prompt after some frames.
func TestStopMidPrompt(t *testing.T) {
	p := NewPlayer(Config{})
	if err := p.Start(context.Background(), Prompt{Items: []Item{{Tone: "ringback", Duration: 10 * time.Second}}}); err != nil {
		t.Fatal(err)
	}
	done := p.Done()
	var f audio.Frame
	for range 7 {
		p.Next(&f)
	}
	p.Stop()
	p.Stop() // idempotent
	r := result(t, done)
	if r.Completed || r.Err != nil || r.Played != 7*audio.FrameDuration {
		t.Fatalf("Result = %+v", r)
	}
	if p.Next(&f) {
		t.Fatal("still playing after Stop")
	}
}

// TestLoop plays a looping prompt three times: each pass is identical (the
// tone starts over) and Played counts every pass.
func TestLoop(t *testing.T) {
	dir := t.TempDir()
	samples := ramp(320, -500)
	p := NewPlayer(Config{})
	pr := Prompt{Loop: true, Items: []Item{
		{File: wavFile(t, dir, "a.wav", samples)},
		{Tone: "busy", Duration: 40 * time.Millisecond},
	}}
	if err := p.Start(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	done := p.Done()
	var passes [3][4]audio.Frame
	for i := range passes {
		for j := range passes[i] {
			if !p.Next(&passes[i][j]) {
				t.Fatalf("pass %d frame %d: not playing", i, j)
			}
		}
	}
	noResult(t, done)
	for i := range passes {
		if passes[i] != passes[0] {
			t.Fatalf("pass %d differs from pass 0", i)
		}
	}
	if passes[0][0] != frameOf(samples, 0) || toneDBm0(&passes[0][2], 425) < -20 {
		t.Fatal("wrong content")
	}
	p.Stop()
	if r := result(t, done); r.Completed || r.Played != 12*audio.FrameDuration {
		t.Fatalf("Result = %+v", r)
	}
}

// TestBargeIn stops only prompts that allow it.
func TestBargeIn(t *testing.T) {
	p := NewPlayer(Config{})
	ctx := context.Background()
	var f audio.Frame
	if err := p.Start(ctx, Prompt{Items: []Item{{Silence: time.Second}}}); err != nil {
		t.Fatal(err)
	}
	p.Next(&f)
	if p.BargeIn() || !p.Next(&f) {
		t.Fatal("BargeIn stopped a prompt without BargeIn")
	}
	if err := p.Start(ctx, Prompt{BargeIn: true, Items: []Item{{Silence: time.Second}}}); err != nil {
		t.Fatal(err)
	}
	done := p.Done()
	p.Next(&f)
	if !p.BargeIn() {
		t.Fatal("BargeIn did not stop")
	}
	if r := result(t, done); r.Completed || r.Played != audio.FrameDuration {
		t.Fatalf("Result = %+v", r)
	}
	if p.BargeIn() {
		t.Fatal("BargeIn on an idle Player")
	}
}

// TestReplace starts a prompt over another one.
func TestReplace(t *testing.T) {
	p := NewPlayer(Config{})
	ctx := context.Background()
	if err := p.Start(ctx, Prompt{Items: []Item{{Silence: time.Second}}}); err != nil {
		t.Fatal(err)
	}
	first := p.Done()
	var f audio.Frame
	p.Next(&f)
	if err := p.Start(ctx, Prompt{Items: []Item{{Silence: 40 * time.Millisecond}}}); err != nil {
		t.Fatal(err)
	}
	if r := result(t, first); r.Completed || !errors.Is(r.Err, ErrReplaced) || r.Played != audio.FrameDuration {
		t.Fatalf("first Result = %+v", r)
	}
	second := p.Done()
	p.Next(&f)
	p.Next(&f)
	if r := result(t, second); !r.Completed || r.Played != 2*audio.FrameDuration {
		t.Fatalf("second Result = %+v", r)
	}
}

// TestContextEnds stops a prompt when the context given to Start ends.
func TestContextEnds(t *testing.T) {
	p := NewPlayer(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(ctx, Prompt{Items: []Item{{Silence: time.Minute}}}); err != nil {
		t.Fatal(err)
	}
	done := p.Done()
	var f audio.Frame
	p.Next(&f)
	cancel()
	if r := result(t, done); r.Completed || !errors.Is(r.Err, context.Canceled) || r.Played != audio.FrameDuration {
		t.Fatalf("Result = %+v", r)
	}
	if err := p.Start(ctx, Prompt{Items: []Item{{Silence: time.Second}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with an ended context = %v", err)
	}
}

// TestMissingFile fails before playing anything and names the item.
func TestMissingFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.wav")
	p := NewPlayer(Config{})
	err := p.Start(context.Background(), Prompt{Items: []Item{{Silence: time.Second}, {File: missing}}})
	var ie *ItemError
	if !errors.Is(err, ErrPromptItem) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &ie) || ie.Index != 1 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "item 1") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err %q does not name the item", err)
	}
	var f audio.Frame
	if p.Next(&f) || p.Playing() {
		t.Fatal("playing after a failed Start")
	}
}

// TestTTS synthesises a text item once, at Start, even when looping.
func TestTTS(t *testing.T) {
	samples := ramp(320, 7)
	sp := &fakeSpeaker{clip: &audio.Clip{Samples: samples}}
	p := NewPlayer(Config{Speaker: sp})
	pr := Prompt{Loop: true, Items: []Item{{Text: "Welcome", Language: "en-GB", Voice: "kal"}}}
	if err := p.Start(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	if c := sp.Calls(); len(c) != 1 || c[0] != "Welcome|en-GB|kal" {
		t.Fatalf("calls at Start = %q", c)
	}
	var f audio.Frame
	for i := range 6 {
		p.Next(&f)
		if f != frameOf(samples, i%2) {
			t.Fatalf("frame %d: not the speech", i)
		}
	}
	p.Stop()
	if c := sp.Calls(); len(c) != 1 {
		t.Fatalf("Speak called %d times", len(c))
	}
	if _, err := p.PromptDuration(pr); !errors.Is(err, ErrDurationUnknown) {
		t.Fatalf("PromptDuration of text = %v", err)
	}
}

// blockingSpeaker waits for release before it speaks.
type blockingSpeaker struct {
	called, release chan struct{}
}

func (b blockingSpeaker) Speak(context.Context, string, string, string) (*audio.Clip, error) {
	close(b.called)
	<-b.release
	return &audio.Clip{Samples: ramp(160, 1)}, nil
}

// TestStopDuringPrepare: a Stop while Start synthesises means the prompt
// never plays.
func TestStopDuringPrepare(t *testing.T) {
	sp := blockingSpeaker{called: make(chan struct{}), release: make(chan struct{})}
	p := NewPlayer(Config{Speaker: sp})
	errc := make(chan error)
	go func() { errc <- p.Start(context.Background(), Prompt{Items: []Item{{Text: "slow"}}}) }()
	<-sp.called
	p.Stop()
	close(sp.release)
	if err := <-errc; !errors.Is(err, ErrStopped) {
		t.Fatalf("Start = %v", err)
	}
	if p.Playing() {
		t.Fatal("stopped prompt plays")
	}
}

// TestItemErrors checks the items refused by Start.
func TestItemErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		speaker Speaker
		pr      Prompt
		want    error
	}{
		{"no items", nil, Prompt{}, ErrEmptyPrompt},
		{"empty item", nil, Prompt{Items: []Item{{}}}, ErrItemKind},
		{"two kinds", nil, Prompt{Items: []Item{{File: "x.wav", Silence: time.Second}}}, ErrItemKind},
		{"no speaker", nil, Prompt{Items: []Item{{Text: "hi"}}}, ErrNoSpeaker},
		{"speaker fails", &fakeSpeaker{err: boom}, Prompt{Items: []Item{{Text: "hi"}}}, boom},
		{"unknown tone", nil, Prompt{Items: []Item{{Tone: "dial-ish", Duration: time.Second}}}, ErrUnknownTone},
		{"tone without duration", nil, Prompt{Items: []Item{{Tone: "busy"}}}, ErrToneDuration},
		{"loop of nothing", &fakeSpeaker{clip: &audio.Clip{}}, Prompt{Loop: true, Items: []Item{{Text: "…"}}}, ErrEmptyPrompt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlayer(Config{Speaker: tt.speaker})
			if err := p.Start(context.Background(), tt.pr); !errors.Is(err, tt.want) {
				t.Fatalf("Start = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestNothingToPlay completes a prompt of no length at once.
func TestNothingToPlay(t *testing.T) {
	p := NewPlayer(Config{Speaker: &fakeSpeaker{clip: &audio.Clip{}}})
	if err := p.Start(context.Background(), Prompt{Items: []Item{{Text: "…"}}}); err != nil {
		t.Fatal(err)
	}
	if r := result(t, p.Done()); !r.Completed || r.Played != 0 {
		t.Fatalf("Result = %+v", r)
	}
}

// TestConcurrent calls Start, StartMOH, Stop, BargeIn and Done from several
// goroutines while one goroutine calls Next, for the race detector, and
// checks that no goroutine is left behind.
func TestConcurrent(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	file := wavFile(t, dir, "a.wav", ramp(800, 0))
	p := NewPlayer(Config{Speaker: &fakeSpeaker{clip: &audio.Clip{Samples: ramp(500, 3)}}, ClipCache: NewClipCache(1 << 20)})
	pr := Prompt{BargeIn: true, Items: []Item{{File: file}, {Text: "x"}, {Tone: "beep"}, {Silence: 40 * time.Millisecond}}}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var f audio.Frame
		for {
			select {
			case <-stop:
				return
			default:
				p.Next(&f)
			}
		}
	})
	var ctl sync.WaitGroup
	for g := range 4 {
		ctl.Go(func() {
			for i := range 200 {
				switch (g + i) % 5 {
				case 0, 1:
					if err := p.Start(context.Background(), pr); err != nil && !errors.Is(err, ErrStopped) {
						t.Error(err)
					}
				case 2:
					if err := p.StartMOH(dir); err != nil && !errors.Is(err, ErrStopped) {
						t.Error(err)
					}
				case 3:
					p.Stop()
				case 4:
					p.BargeIn()
				}
				select {
				case <-p.Done():
				default:
				}
			}
		})
	}
	ctl.Wait()
	p.Stop()
	close(stop)
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines before, %d after", before, n)
	}
}

// TestNextAllocs holds Next to no allocation per frame.
func TestNextAllocs(t *testing.T) {
	dir := t.TempDir()
	p := NewPlayer(Config{})
	pr := Prompt{Loop: true, Items: []Item{{File: wavFile(t, dir, "a.wav", ramp(400, 0))}, {Tone: "congestion", Duration: 60 * time.Millisecond}, {Silence: 20 * time.Millisecond}}}
	if err := p.Start(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	var f audio.Frame
	if n := testing.AllocsPerRun(1000, func() { p.Next(&f) }); n != 0 {
		t.Fatalf("prompt: %v allocations per frame", n)
	}
	if err := p.StartMOH(dir); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if n := testing.AllocsPerRun(1000, func() { p.Next(&f) }); n != 0 {
		t.Fatalf("music on hold: %v allocations per frame", n)
	}
}
