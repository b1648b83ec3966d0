package server

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/tts"
)

// PromptsConfig is the `prompts:` section: what calls switchd answers
// itself (service numbers, IVR flows, queues) play.
type PromptsConfig struct {
	// Dir holds recorded prompts: a prompt named "welcome" in language
	// en-GB is Dir/en-GB/welcome.wav, Dir/en/welcome.wav or Dir/welcome.wav
	// (WAV, PCM any rate, mono or stereo; G.711 WAV too). Default "./prompts".
	Dir string `yaml:"dir"`
	// Language is the default language of prompts and text-to-speech
	// (BCP 47: en, en-GB, cmn for Mandarin, de, …). Default "en".
	Language string `yaml:"language"`
	// ToneRegion selects ringback/busy/congestion tones (ITU-T E.180): eu,
	// us, uk or cn. Default "eu".
	ToneRegion string `yaml:"tone_region"`
	// MOHDir is the music-on-hold folder: its WAV files play in a loop,
	// re-read each round. Default "./moh" (a missing or empty folder plays
	// a soft beep every few seconds).
	MOHDir string `yaml:"moh_dir"`
	// HoldMusic plays the MOHDir music to a party the other one puts on
	// hold (re-INVITE sendonly/inactive) instead of relaying the holder's
	// stream. Default true.
	HoldMusic bool `yaml:"hold_music"`
	// TTS is text-to-speech.
	TTS TTSConfig `yaml:"tts"`
}

// TTSConfig is `prompts.tts`.
type TTSConfig struct {
	// CacheDir keeps synthesised prompts (WAV, by text, language and
	// voice). Default "" = <data_dir>/tts-cache.
	CacheDir string `yaml:"cache_dir"`
	// Timeout bounds one synthesis. Default 10s.
	Timeout config.Duration `yaml:"timeout"`
}

// DefaultPromptsConfig is the built-in `prompts:` section.
func DefaultPromptsConfig() PromptsConfig {
	return PromptsConfig{Dir: "./prompts", Language: "en", ToneRegion: "eu", MOHDir: "./moh", HoldMusic: true,
		TTS: TTSConfig{Timeout: config.Duration(10 * time.Second)}}
}

// Validate checks the section.
func (c *PromptsConfig) Validate() []config.Problem {
	var ps config.Problems
	if c.Dir == "" {
		ps.Add("dir", "must not be empty")
	}
	if c.Language == "" {
		ps.Add("language", "must not be empty")
	}
	if _, ok := audio.Tones(c.ToneRegion); !ok {
		ps.Add("tone_region", "%q is not one of eu, us, uk, cn", c.ToneRegion)
	}
	if c.TTS.Timeout.D() <= 0 {
		ps.Add("tts.timeout", "must be positive")
	}
	return ps.List()
}

// ServiceConfig is one entry of `services:`: a number extensions dial that
// switchd answers itself — a test line, an announcement, music on hold.
type ServiceConfig struct {
	// Number is what is dialled: digits, * and #, e.g. "*97".
	Number string `yaml:"number"`
	// Name appears in logs, events and CDR routes. Default: the number.
	Name string `yaml:"name"`
	// Play is played in order after answering.
	Play []PromptItemConfig `yaml:"play"`
	// Then is what happens after Play: hangup (default), wait (until the
	// caller hangs up; digits pressed are call_dtmf events), moh, or
	// transfer (ring Transfer; the caller hears ringback).
	Then string `yaml:"then"`
	// Transfer is the extension then: transfer connects the caller to.
	Transfer string `yaml:"transfer"`
	// Flow is the IVR flow then: flow runs (from ivr.dir), e.g. to try a
	// flow from a desk phone before a DID points at it.
	Flow string `yaml:"flow"`
	// MOH is the music folder for then: moh. Default prompts.moh_dir.
	MOH string `yaml:"moh"`
}

// PromptItemConfig is one item of a playlist: exactly one of file, text,
// tone and silence.
type PromptItemConfig struct {
	// File is a WAV file (relative to the working directory).
	File string `yaml:"file"`
	// Text is spoken by text-to-speech in Language (default
	// prompts.language) and Voice (default: the language's).
	Text     string `yaml:"text"`
	Language string `yaml:"language"`
	Voice    string `yaml:"voice"`
	// Tone is ringback, busy, congestion or beep, for Duration (beep: once).
	Tone     string          `yaml:"tone"`
	Duration config.Duration `yaml:"duration"`
	// Silence is a pause of this length.
	Silence config.Duration `yaml:"silence"`
}

var serviceNumber = regexp.MustCompile(`^[0-9*#]{1,20}$`)

// validateServices checks `services:`.
func validateServices(svcs []ServiceConfig) []config.Problem {
	var ps config.Problems
	seen := map[string]int{}
	for i, s := range svcs {
		at := fmt.Sprintf("services[%d]", i)
		if !serviceNumber.MatchString(s.Number) {
			ps.Add(at+".number", "%q is not a dialable number (digits, * and #)", s.Number)
		} else if j, dup := seen[s.Number]; dup {
			ps.Add(at+".number", "%s is also services[%d]", s.Number, j)
		}
		seen[s.Number] = i
		switch s.Then {
		case "", "hangup", "wait", "moh":
			if s.Transfer != "" {
				ps.Add(at+".transfer", "only with then: transfer")
			}
		case "transfer":
			if s.Transfer == "" {
				ps.Add(at+".transfer", "then: transfer needs the extension to transfer to")
			}
		case "flow":
			if s.Flow == "" {
				ps.Add(at+".flow", "then: flow needs the name of an IVR flow")
			}
		default:
			ps.Add(at+".then", "%q is not hangup, wait, moh, transfer or flow", s.Then)
		}
		if len(s.Play) == 0 && (s.Then == "" || s.Then == "hangup") {
			ps.Add(at, "plays nothing and hangs up: add play items or then: wait / moh")
		}
		for k, it := range s.Play {
			ps.Merge(fmt.Sprintf("%s.play[%d]", at, k), it.validate())
		}
	}
	return ps.List()
}

func (it PromptItemConfig) validate() []config.Problem {
	var ps config.Problems
	n := 0
	for _, set := range []bool{it.File != "", it.Text != "", it.Tone != "", it.Silence > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		ps.Add("", "needs exactly one of file, text, tone, silence")
	}
	if it.File != "" {
		if _, err := os.Stat(it.File); err != nil {
			ps.Add("file", "%v", err)
		}
	}
	switch it.Tone {
	case "", prompt.ToneBeep:
	case prompt.ToneRingback, prompt.ToneBusy, prompt.ToneCongestion:
		if it.Duration <= 0 {
			ps.Add("duration", "a %s tone needs a duration", it.Tone)
		}
	default:
		ps.Add("tone", "%q is not ringback, busy, congestion or beep", it.Tone)
	}
	return ps.List()
}

// item is the player's form of a playlist item.
func (it PromptItemConfig) item() prompt.Item {
	return prompt.Item{File: it.File, Text: it.Text, Language: it.Language, Voice: it.Voice,
		Tone: it.Tone, Duration: it.Duration.D(), Silence: it.Silence.D()}
}

// serviceApp runs a service number.
type serviceApp struct {
	svc ServiceConfig
	moh string
	// next is the flow a then: flow service runs, bound at call entry;
	// nil when the flow does not exist (any more).
	next sip.Application
}

var _ sip.Application = serviceApp{}

// Name implements sip.Application.
func (a serviceApp) Name() string {
	if a.svc.Name != "" {
		return a.svc.Name
	}
	return a.svc.Number
}

// Run implements sip.Application: play, then hang up, wait or play music.
func (a serviceApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	if len(a.svc.Play) > 0 {
		p := prompt.Prompt{}
		for _, it := range a.svc.Play {
			p.Items = append(p.Items, it.item())
		}
		if _, err := leg.Play(ctx, p); err != nil && ctx.Err() == nil {
			return sip.AppResult{Cause: call.CauseFailure}
		}
	}
	switch a.svc.Then {
	case "transfer":
		return sip.AppResult{Bridge: a.svc.Transfer}
	case "flow":
		if a.next == nil {
			return sip.AppResult{Cause: call.CauseUnavailable}
		}
		return a.next.Run(ctx, leg)
	case "wait":
		<-ctx.Done()
	case "moh":
		dir := a.svc.MOH
		if dir == "" {
			dir = a.moh
		}
		leg.MusicOnHold(ctx, dir)
	}
	return sip.AppResult{Cause: call.CauseNormalClearing}
}

// speaker adapts the TTS router to the prompt player.
type speaker struct{ r *tts.Router }

// Speak implements prompt.Speaker.
func (s speaker) Speak(ctx context.Context, text, lang, voice string) (*audio.Clip, error) {
	return s.r.Synthesize(ctx, tts.Request{Text: text, Language: lang, Voice: voice})
}
