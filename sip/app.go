package sip

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/dtmf"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/media/tap"
)

// Application is a call switchd answers and handles itself: a service
// number, an IVR flow. Run drives the leg until it is done with the call
// and says what happens next: hang up, or connect the caller to an
// extension. When the caller hangs up first, leg.Context() ends and Run
// should return promptly.
type Application interface {
	// Name identifies the application in logs and CDR routes.
	Name() string
	Run(ctx context.Context, leg *AppLeg) AppResult
}

// PromptConfig is what app legs need to play prompts.
type PromptConfig struct {
	// Dir holds recorded prompts: call.Prompt.Audio "welcome" in language
	// "en-GB" is Dir/en-GB/welcome.wav, Dir/en/welcome.wav or Dir/welcome.wav,
	// the first that exists.
	Dir string
	// Language is the default language of prompts ("en").
	Language string
	// Region selects the call-progress tones (ITU-T E.180): eu, us, uk, cn.
	Region string
	// Speaker synthesises text prompts; nil: text prompts fail.
	Speaker prompt.Speaker
	// Clips caches loaded WAV files across calls; nil: none.
	Clips *prompt.ClipCache
	// RecordDir is where messages recorded on app legs (voicemail) go.
	RecordDir string
	// MOHDir is the music on hold folder; HoldMusic plays it to a party
	// the other one puts on hold.
	MOHDir    string
	HoldMusic bool
}

// AppLeg is the caller's leg of a call switchd answered itself. It
// implements call.Leg and call.Prompter: applications play prompts, music
// on hold and tones to it and read the digits its party presses (RFC 4733,
// in-band or SIP INFO: one event per key press, also published on the bus).
type AppLeg struct {
	c       *b2bCall
	dialled string
	ctx     context.Context
	cancel  context.CancelFunc
	cause   atomic.Uint32
	player  *prompt.Player
	ep      *media.Endpoint
	tap     *tap.Point
	cfg     PromptConfig

	digits    chan dtmf.Event
	merger    *dtmf.Merger
	mergeMu   sync.Mutex
	sensitive atomic.Bool

	sensMu      sync.Mutex
	onSensitive []func(on bool)

	retrievable   atomic.Bool // another phone may Retrieve the caller (park)
	transferredBy string      // the transferor whose transfer brought the caller here
}

var (
	_ call.Leg      = (*AppLeg)(nil)
	_ call.Prompter = (*AppLeg)(nil)
)

func newAppLeg(c *b2bCall, cfg PromptConfig) *AppLeg {
	ctx, cancel := context.WithCancel(context.Background())
	return &AppLeg{
		c: c, dialled: c.callee.Number, ctx: ctx, cancel: cancel, cfg: cfg, tap: c.media.aTap,
		player: prompt.NewPlayer(prompt.Config{Region: cfg.Region, Speaker: cfg.Speaker, ClipCache: cfg.Clips, Logger: c.log}),
		digits: make(chan dtmf.Event, 64),
		merger: dtmf.NewMerger(),
	}
}

// ID implements call.Leg.
func (l *AppLeg) ID() call.LegID { return call.LegID(string(l.c.id) + "/a") }

// Medium implements call.Leg.
func (l *AppLeg) Medium() call.Medium { return call.MediumVoice }

// Context implements call.Leg: it ends when the leg does.
func (l *AppLeg) Context() context.Context { return l.ctx }

// Cause implements call.Leg.
func (l *AppLeg) Cause() call.Cause { return call.Cause(l.cause.Load()) }

// Hangup implements call.Leg: switchd sends BYE to the caller.
func (l *AppLeg) Hangup(cause call.Cause) {
	l.end(cause)
	l.c.hangup(cause)
}

func (l *AppLeg) end(cause call.Cause) {
	l.cause.CompareAndSwap(0, uint32(cause))
	l.cancel()
	l.player.Stop()
}

// CallID is the ID of the call the leg belongs to.
func (l *AppLeg) CallID() call.ID { return l.c.id }

// Caller is the calling party; Dialled the number it called.
func (l *AppLeg) Caller() call.Party { return l.c.caller }

// Dialled is the number the caller dialled.
func (l *AppLeg) Dialled() string { return l.dialled }

// SetSource makes src what the party hears (a conference's mix) instead
// of the leg's prompts; nil gives the prompts back.
func (l *AppLeg) SetSource(src media.FrameSource) {
	if l.ep == nil {
		return
	}
	if src == nil {
		src = l.player
	}
	l.ep.SetSource(src)
}

// Tap is the leg's decoded audio, both directions, for recorders, ASR and tests.
func (l *AppLeg) Tap() *tap.Point { return l.tap }

// Digits delivers the digits the party presses, in order. Collect reads
// from it too: use one or the other.
func (l *AppLeg) Digits() <-chan dtmf.Event { return l.digits }

// SetSensitive keeps the digits that follow out of events and logs
// ("redacted") until it is turned off: card numbers, PINs. Recorders
// registered with OnSensitive pause meanwhile.
func (l *AppLeg) SetSensitive(on bool) {
	if l.sensitive.Swap(on) == on {
		return
	}
	l.sensMu.Lock()
	fs := l.onSensitive
	l.sensMu.Unlock()
	for _, f := range fs {
		f(on)
	}
}

// OnSensitive registers f, called with true when the leg turns sensitive
// and false when it stops (a recorder pauses so that card digits are
// never recorded). f must not block.
func (l *AppLeg) OnSensitive(f func(on bool)) {
	l.sensMu.Lock()
	l.onSensitive = append(l.onSensitive, f)
	l.sensMu.Unlock()
	if l.sensitive.Load() {
		f(true)
	}
}

// SendDigits sends DTMF to the party: RFC 4733 when negotiated, else tones.
func (l *AppLeg) SendDigits(digits string) error {
	if l.ep == nil {
		return errors.New("sip: leg has no media")
	}
	return l.ep.SendDigits(digits, 100*time.Millisecond)
}

// digit takes one detected digit from any source (media goroutines, the
// call goroutine for SIP INFO); one key press sent several ways is kept once.
func (l *AppLeg) digit(e dtmf.Event) {
	l.mergeMu.Lock()
	e, ok := l.merger.Add(e)
	l.mergeMu.Unlock()
	if !ok {
		return
	}
	d := string(e.Digit)
	if l.sensitive.Load() {
		d = "redacted"
	}
	l.c.publish(call.EventCallDTMF, func(ev *call.Event) {
		ev.Data = map[string]string{call.DataDigit: d, call.DataDTMFSource: e.Source.String(), call.DataLeg: "caller"}
	})
	select {
	case l.digits <- e:
	default: // nobody reads digits: the event is on the bus all the same
	}
	l.player.BargeIn()
}

// Play plays p and waits until it ends: completed, barged in by a digit
// (when p.BargeIn), stopped, or the leg or ctx ended.
func (l *AppLeg) Play(ctx context.Context, p prompt.Prompt) (prompt.Result, error) {
	ctx, cancel := mergeCancel(ctx, l.ctx)
	defer cancel()
	if err := l.player.Start(ctx, p); err != nil {
		return prompt.Result{}, err
	}
	select {
	case r := <-l.player.Done():
		return r, r.Err
	case <-ctx.Done():
		l.player.Stop()
		return prompt.Result{}, ctx.Err()
	}
}

// MusicOnHold plays the WAV files of dir in a loop until ctx or the leg ends.
func (l *AppLeg) MusicOnHold(ctx context.Context, dir string) error {
	ctx, cancel := mergeCancel(ctx, l.ctx)
	defer cancel()
	if err := l.player.StartMOH(dir); err != nil {
		return err
	}
	<-ctx.Done()
	l.player.Stop()
	return ctx.Err()
}

// Prompt implements call.Prompter.
func (l *AppLeg) Prompt(ctx context.Context, p call.Prompt) error {
	pp, err := l.promptFor(p)
	if err != nil {
		return err
	}
	_, err = l.Play(ctx, pp)
	return err
}

// promptFor turns a medium-neutral prompt into what the player plays.
func (l *AppLeg) promptFor(p call.Prompt) (prompt.Prompt, error) {
	lang := p.Language
	if lang == "" {
		lang = l.cfg.Language
	}
	out := prompt.Prompt{BargeIn: p.Interruptible}
	if p.Audio != "" {
		path, err := l.findAudio(p.Audio, lang)
		switch {
		case err == nil:
			out.Items = []prompt.Item{{File: path}}
			return out, nil
		case p.Text == "":
			return out, err
		}
		// A recorded prompt with a spoken fallback: say the text.
	}
	if p.Text == "" {
		return out, errors.New("sip: empty prompt")
	}
	out.Items = []prompt.Item{{Text: p.Text, Language: lang}}
	return out, nil
}

// findAudio resolves a recorded prompt name for a language.
func (l *AppLeg) findAudio(name, lang string) (string, error) {
	if filepath.IsAbs(name) || filepath.Ext(name) != "" {
		if strings.Contains(name, "..") {
			return "", fmt.Errorf("sip: prompt file %q must not contain ..", name)
		}
		return name, nil // a file path, as flows may name one
	}
	return FindPrompt(l.cfg.Dir, name, lang)
}

// FindPrompt finds the WAV file of recorded prompt name in language lang
// under dir: dir/<lang>/name.wav, then the language's parents ("en-GB" →
// "en"), then dir/name.wav.
func FindPrompt(dir, name, lang string) (string, error) {
	if strings.Contains(name, "..") {
		return "", fmt.Errorf("sip: prompt %q: must be a name inside the prompts directory", name)
	}
	var tried []string
	for _, sub := range langDirs(lang) {
		p := filepath.Join(dir, sub, name+".wav")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("sip: prompt %q not found (tried %s): %w", name, strings.Join(tried, ", "), os.ErrNotExist)
}

// langDirs are the folders to look in for lang, most specific first:
// "en-GB" → en-GB, en, "".
func langDirs(lang string) []string {
	var out []string
	for lang != "" {
		out = append(out, lang)
		i := strings.LastIndexByte(lang, '-')
		if i < 0 {
			break
		}
		lang = lang[:i]
	}
	return append(out, "")
}

// Collect implements call.Prompter: the prompt (interruptible; skipped
// when the party already typed ahead), then digits until MaxDigits, the
// terminator, the inter-digit timeout, or no first digit before Timeout
// (call.ErrNoInput). Keys pressed during earlier prompts count.
func (l *AppLeg) Collect(ctx context.Context, spec call.CollectSpec) (string, error) {
	spec = spec.WithDefaults()
	ctx, cancel := mergeCancel(ctx, l.ctx)
	defer cancel()
	// Digits pressed earlier (barging in on the menu's prompts, or typed
	// ahead) are kept: they are the first of this collection.
	if !spec.Prompt.IsZero() && len(l.digits) == 0 {
		p := spec.Prompt
		p.Interruptible = true
		if err := l.Prompt(ctx, p); err != nil && ctx.Err() != nil {
			return "", err
		}
	}
	var got []byte
	timer := time.NewTimer(spec.Timeout)
	defer timer.Stop()
	for {
		select {
		case e := <-l.digits:
			if spec.Terminator != "" && string(e.Digit) == spec.Terminator {
				return string(got), nil
			}
			got = append(got, e.Digit)
			if spec.MaxDigits > 0 && len(got) >= spec.MaxDigits {
				return string(got), nil
			}
			timer.Reset(spec.InterDigitTimeout)
		case <-timer.C:
			if len(got) == 0 {
				return "", call.ErrNoInput
			}
			return string(got), nil
		case <-ctx.Done():
			return string(got), ctx.Err()
		}
	}
}

// mergeCancel is a context that ends with either a or b.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}
