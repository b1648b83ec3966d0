package tts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// EspeakName is the Name of the espeak-ng engine.
const EspeakName = "espeak-ng"

// Defaults for EspeakOptions.
const (
	DefaultEspeakPath     = "espeak-ng"
	DefaultTimeout        = 10 * time.Second
	DefaultMaxOutputBytes = 16 << 20 // ≈ 6 min of 22.05 kHz 16-bit mono
)

// voiceListTimeout bounds `espeak-ng --voices`.
const voiceListTimeout = 5 * time.Second

// EspeakOptions configures an Espeak engine.
type EspeakOptions struct {
	// Path is the espeak-ng binary; a bare name is looked up in PATH.
	// Default DefaultEspeakPath.
	Path string
	// Timeout bounds one synthesis (process start to exit). Default
	// DefaultTimeout; the request's context may end it sooner.
	Timeout time.Duration
	// MaxOutputBytes bounds the WAV read from the process's stdout.
	// Default DefaultMaxOutputBytes.
	MaxOutputBytes int64
	// Logger; default discards.
	Logger *slog.Logger
}

// Espeak synthesises speech by running the espeak-ng binary once per
// request: `espeak-ng -b 1 -v <voice> --stdin --stdout`, text on stdin
// (never in argv: no option injection, no argv length limit), a WAV on
// stdout (22050 Hz for the built-in voices) that is resampled to 8 kHz.
// espeak-ng is GPL-3+, so switchd runs the program and does not link it.
// It speaks the ~130 languages `espeak-ng --voices` lists, Mandarin as
// "cmn". An Espeak is safe for concurrent use; each request is its own
// process.
type Espeak struct {
	path      string
	timeout   time.Duration
	maxOutput int64
	log       *slog.Logger

	mu     sync.Mutex    // guards voices
	voices *espeakVoices // nil until listed successfully
}

var _ Synthesizer = (*Espeak)(nil)

// NewEspeak returns an espeak-ng engine. It does not run the binary; a
// missing binary shows as ErrEngineUnavailable from Check and Synthesize
// (and as Supports reporting false).
func NewEspeak(opts EspeakOptions) *Espeak {
	e := &Espeak{
		path:      opts.Path,
		timeout:   opts.Timeout,
		maxOutput: opts.MaxOutputBytes,
		log:       opts.Logger,
	}
	if e.path == "" {
		e.path = DefaultEspeakPath
	}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if e.maxOutput <= 0 {
		e.maxOutput = DefaultMaxOutputBytes
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Name returns EspeakName.
func (e *Espeak) Name() string { return EspeakName }

// Check runs `espeak-ng --voices` (once; the list is kept) and reports
// whether the engine can run: nil, or an error wrapping
// ErrEngineUnavailable.
func (e *Espeak) Check(ctx context.Context) error {
	_, err := e.voiceList(ctx)
	return err
}

// Supports reports whether espeak-ng has a voice for lang (canonicalised
// by CanonicalLanguage), directly ("de", "en-us", "cmn"), as one of a
// voice's other languages ("en", "zh-cmn"), or through its primary
// subtag ("de-at" → "de").
func (e *Espeak) Supports(lang string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), voiceListTimeout)
	defer cancel()
	v, err := e.voiceList(ctx)
	if err != nil {
		return false
	}
	_, ok := v.voiceFor(CanonicalLanguage(lang))
	return ok
}

// HasVoice reports whether voice names an espeak-ng voice: a language
// code, a voice name or a voice file from `espeak-ng --voices`,
// optionally with a "+variant" suffix ("en-us+f3").
func (e *Espeak) HasVoice(voice string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), voiceListTimeout)
	defer cancel()
	v, err := e.voiceList(ctx)
	return err == nil && v.hasVoice(voice)
}

// Synthesize runs espeak-ng for r and returns 8 kHz mono audio. An empty
// r.Voice picks the voice for r.Language.
func (e *Espeak) Synthesize(ctx context.Context, r Request) (*audio.Clip, error) {
	text, err := cleanText(r.Text)
	if err != nil {
		return nil, err
	}
	voice := strings.TrimSpace(r.Voice)
	if voice == "" {
		v, err := e.voiceList(ctx)
		if err != nil {
			return nil, err
		}
		lang := CanonicalLanguage(r.Language)
		if voice, _ = v.voiceFor(lang); voice == "" {
			return nil, fmt.Errorf("%w: %q (espeak-ng)", ErrUnsupportedLanguage, lang)
		}
	} else if !validVoice(voice) {
		return nil, fmt.Errorf("%w: %q (espeak-ng)", ErrUnknownVoice, voice)
	} else {
		// espeak-ng guesses at names it does not know ("no-such-voice"
		// speaks Norwegian); refuse them so that a typo in a flow shows.
		v, err := e.voiceList(ctx)
		if err != nil {
			return nil, err
		}
		if !v.hasVoice(voice) {
			return nil, fmt.Errorf("%w: %q (see espeak-ng --voices)", ErrUnknownVoice, voice)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	start := time.Now()
	wav, err := e.run(ctx, strings.NewReader(text), "-b", "1", "-v", voice, "--stdin", "--stdout")
	if err != nil {
		return nil, err
	}
	clip, err := audio.ReadWAV(bytes.NewReader(wav)) // reads espeak-ng's streamed sizes (0x7ffff000)
	if err != nil {
		return nil, fmt.Errorf("%w: espeak-ng: reading its WAV: %w", ErrEngineFailed, err)
	}
	e.log.Debug("tts_rendered", "engine", EspeakName, "voice", voice,
		"text_bytes", len(text), "samples", len(clip.Samples),
		"source_rate", clip.SourceRate, "elapsed", time.Since(start))
	return clip, nil
}

// run executes espeak-ng with args and stdin and returns its stdout,
// bounded by ctx and e.maxOutput.
func (e *Espeak) run(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, e.path, args...)
	cmd.Stdin = stdin
	stderr := &cappedBuffer{max: 2048}
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second // bound Wait if a child keeps the pipes open
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: espeak-ng: %w", ErrEngineFailed, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: espeak-ng (%s): %w (Debian package espeak-ng)", ErrEngineUnavailable, e.path, err)
	}
	out, readErr := io.ReadAll(io.LimitReader(stdout, e.maxOutput+1))
	if int64(len(out)) > e.maxOutput {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%w: espeak-ng: more than %d bytes", ErrOutputTooLarge, e.maxOutput)
	}
	waitErr := cmd.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts: espeak-ng: %w", err)
	}
	if waitErr != nil {
		return nil, fmt.Errorf("%w: espeak-ng %s: %w: %s", ErrEngineFailed,
			strings.Join(args, " "), waitErr, strings.TrimSpace(stderr.String()))
	}
	if readErr != nil {
		return nil, fmt.Errorf("%w: espeak-ng: reading stdout: %w", ErrEngineFailed, readErr)
	}
	return out, nil
}

// voiceList returns the parsed `espeak-ng --voices`, running it on first
// use (not under e.mu: concurrent first requests may each run it, which
// is harmless). A failure is not kept, so installing espeak-ng later is
// noticed.
func (e *Espeak) voiceList(ctx context.Context) (*espeakVoices, error) {
	e.mu.Lock()
	v := e.voices
	e.mu.Unlock()
	if v != nil {
		return v, nil
	}
	ctx, cancel := context.WithTimeout(ctx, voiceListTimeout)
	defer cancel()
	out, err := e.run(ctx, nil, "--voices")
	if err != nil {
		if !errors.Is(err, ErrEngineUnavailable) {
			err = fmt.Errorf("%w: %w", ErrEngineUnavailable, err)
		}
		return nil, err
	}
	v = parseEspeakVoices(out)
	if len(v.langs) == 0 {
		return nil, fmt.Errorf("%w: espeak-ng --voices listed no voices", ErrEngineUnavailable)
	}
	e.mu.Lock()
	e.voices = v
	e.mu.Unlock()
	e.log.Debug("tts_voices_listed", "engine", EspeakName, "languages", len(v.langs))
	return v, nil
}

// espeakVoices is what `espeak-ng --voices` says, lower-cased.
type espeakVoices struct {
	langs map[string]bool // primary and other languages: "en-us", "en", "zh", "cmn"
	names map[string]bool // what -v accepts: languages, voice names, files
}

// otherLang matches one "(zh-cmn 5)" entry of the Other Languages column.
var otherLang = regexp.MustCompile(`\(([^\s()]+)\s+\d+\)`)

// parseEspeakVoices parses lines such as
//
//	Pty Language       Age/Gender VoiceName          File                 Other Languages
//	 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
func parseEspeakVoices(out []byte) *espeakVoices {
	v := &espeakVoices{langs: map[string]bool{}, names: map[string]bool{}}
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(strings.ToLower(line))
		if i == 0 || len(f) < 5 {
			continue
		}
		lang, name, file := f[1], f[3], f[4]
		v.langs[lang] = true
		v.names[lang], v.names[name], v.names[file] = true, true, true
		for _, m := range otherLang.FindAllStringSubmatch(strings.Join(f[5:], " "), -1) {
			v.langs[m[1]], v.names[m[1]] = true, true
		}
	}
	return v
}

// voiceFor returns the -v argument for a canonical language: the
// language itself (espeak-ng resolves "en" and "zh" to its preferred
// voice), else its primary subtag.
func (v *espeakVoices) voiceFor(lang string) (string, bool) {
	if v.langs[lang] {
		return lang, true
	}
	if b := baseLanguage(lang); v.langs[b] {
		return b, true
	}
	return "", false
}

// hasVoice reports whether voice, less any "+variant", is a language,
// voice name or voice file.
func (v *espeakVoices) hasVoice(voice string) bool {
	if !validVoice(voice) {
		return false
	}
	base, _, _ := strings.Cut(strings.ToLower(voice), "+")
	return v.names[base]
}

// voicePattern is what a voice may look like before espeak-ng sees it:
// a language code, a voice name or file, an optional +variant.
var voicePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_().,/+-]{0,79}$`)

func validVoice(v string) bool {
	return voicePattern.MatchString(v) && !strings.Contains(v, "..")
}

// cappedBuffer keeps the first max bytes written to it (a child's
// stderr) and discards the rest.
type cappedBuffer struct {
	max int
	buf bytes.Buffer
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string { return c.buf.String() }
