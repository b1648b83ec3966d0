package dtmf

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// This file synthesises English speech with flite (Debian package
// "flite") for the talk-off test: several voices, male and female, at
// several pitches and speeds, reading varied sentences of the kind a
// contact centre hears. The WAV files are cached under the user's cache
// directory, keyed by the text and the voice settings.

// fliteVoice is one flite voice setting.
type fliteVoice struct {
	name    string  // flite -voice
	f0      float64 // int_f0_target_mean, Hz; 0: the voice's own
	stretch float64 // duration_stretch; 0: 1
}

// speechVoices: kal is 8 kHz, the others 16 kHz (audio.LoadWAV
// resamples them). slt is female; the raised pitches put the voice's
// harmonics and formants in other places.
var speechVoices = []fliteVoice{
	{name: "kal"},
	{name: "slt"},
	{name: "rms", stretch: 0.9},
	{name: "awb"},
	{name: "kal16", f0: 140, stretch: 1.1},
	{name: "slt", f0: 230, stretch: 0.85},
	{name: "rms", f0: 80},
}

// speechText returns n varied sentences.
func speechText(rng *rand.Rand, n int) string {
	pick := func(words ...string) string { return words[rng.IntN(len(words))] }
	name := func() string {
		return pick("Maria", "John", "Aisha", "Robert", "Chen", "Olga", "Pedro", "Fatima", "George", "Yuki", "Liam", "Sophie", "Ahmed", "Grace", "Daniel", "Ingrid")
	}
	number := func() string {
		var b strings.Builder
		for range 3 + rng.IntN(6) {
			b.WriteString(pick("zero ", "one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight ", "nine ", "oh "))
		}
		return strings.TrimSpace(b.String())
	}
	templates := []func() string{
		func() string {
			return fmt.Sprintf("Hello, my name is %s and I am calling about my %s.", name(),
				pick("invoice", "order", "account", "internet connection", "insurance claim", "delivery", "subscription", "mortgage", "phone bill"))
		},
		func() string { return fmt.Sprintf("My account number is %s.", number()) },
		func() string {
			return fmt.Sprintf("The %s arrived %s and the %s was %s.",
				pick("parcel", "technician", "letter", "replacement", "engineer", "courier"),
				pick("yesterday", "on Monday", "two weeks late", "this morning", "last Friday", "before lunch"),
				pick("box", "screen", "cable", "receipt", "package", "router"),
				pick("broken", "missing", "completely wet", "the wrong colour", "already opened", "fine, actually"))
		},
		func() string {
			return fmt.Sprintf("Could you %s, please?",
				pick("repeat that", "spell your surname", "hold the line for a moment", "confirm your date of birth",
					"tell me the postcode", "check the reference again", "speak a little louder", "send me an email"))
		},
		func() string {
			return fmt.Sprintf("I have been waiting for %s %s and nobody has %s.",
				pick("three", "seven", "twenty", "forty five", "eleven", "ninety"),
				pick("minutes", "days", "weeks", "hours"),
				pick("called me back", "answered my emails", "fixed the problem", "explained anything", "sent the refund"))
		},
		func() string {
			return fmt.Sprintf("%s, the weather in %s is %s today, isn't it?",
				pick("Well", "Honestly", "By the way", "Oh", "You know"),
				pick("London", "Madrid", "Chicago", "Mumbai", "Berlin", "Sydney", "Toronto", "Nairobi"),
				pick("lovely", "terrible", "freezing", "really humid", "surprisingly warm", "grey and windy"))
		},
		func() string {
			return fmt.Sprintf("Thank you for calling %s, this is %s speaking, how may I help you?",
				pick("North Star Energy", "Bluewave Telecom", "City Bank", "Green Valley Insurance", "the help desk"), name())
		},
		func() string {
			return fmt.Sprintf("I would like to %s my %s from %s to %s.",
				pick("change", "move", "upgrade", "cancel", "transfer", "downgrade"),
				pick("plan", "appointment", "booking", "payment date", "address", "tariff"),
				pick("the first", "Tuesday", "March", "the old one", "ten o'clock"),
				pick("next month", "the fifteenth", "Thursday afternoon", "something cheaper", "half past four"))
		},
		func() string {
			return pick("Yes.", "No, not really.", "Okay, that's fine.", "Sorry, what was that?", "Right, I see.",
				"Absolutely!", "Hmm, let me think.", "Great, thanks a lot.", "That's ridiculous!", "Wait a second.",
				"Are you sure?", "Perfect, goodbye.", "Hello? Are you still there?", "Please stop interrupting me.")
		},
		func() string {
			return fmt.Sprintf("The total comes to %d pounds and %d pence, including %s.",
				1+rng.IntN(900), rng.IntN(100), pick("tax", "delivery", "the late fee", "the discount", "installation"))
		},
		func() string {
			return fmt.Sprintf("%s told me that the %s would be %s by %s.",
				pick("Your colleague", "The manager", "Someone on the phone", "My neighbour", "The website", name()),
				pick("refund", "repair", "new card", "contract", "statement", "password reset"),
				pick("sent", "ready", "processed", "approved", "activated", "delivered"),
				pick("Friday", "the end of the week", "noon", "tomorrow evening", "the twenty third"))
		},
		func() string {
			return fmt.Sprintf("We %s %s the %s near the %s.",
				pick("usually", "never", "sometimes", "always", "rarely"),
				pick("walk to", "drive past", "meet at", "shop in", "park behind"),
				pick("market", "station", "old church", "school", "river", "hospital", "stadium"),
				pick("bridge", "library", "roundabout", "bakery", "cinema", "harbour"))
		},
		func() string {
			return fmt.Sprintf("Is it possible to speak to %s in the %s department?",
				pick("somebody", "a supervisor", "a real person", name()),
				pick("billing", "technical support", "sales", "complaints", "accounts", "returns"))
		},
		func() string {
			return fmt.Sprintf("My date of birth is the %s of %s, nineteen %s.",
				pick("first", "second", "ninth", "twelfth", "twentieth", "thirty first", "fourteenth"),
				pick("January", "April", "June", "August", "October", "December"),
				pick("seventy two", "eighty five", "ninety nine", "sixty eight", "eighty one"))
		},
		func() string {
			return fmt.Sprintf("Whenever I %s, the %s starts %s again.",
				pick("turn it on", "open the app", "restart the router", "plug it in", "log in"),
				pick("light", "screen", "speaker", "fan", "machine"),
				pick("blinking", "beeping", "buzzing", "flickering", "whistling"))
		},
	}
	var b strings.Builder
	for range n {
		b.WriteString(templates[rng.IntN(len(templates))]())
		b.WriteByte('\n')
	}
	return b.String()
}

// speechCorpus returns at least minSeconds of speech at audio.SampleRate:
// each voice of speechVoices reading its own text, each scaled to an
// active speech level of level dBm0, with a short pause between voices.
// The test fails when flite is missing.
func speechCorpus(t testing.TB, minSeconds float64, level float64) []int16 {
	t.Helper()
	flite, err := exec.LookPath("flite")
	if err != nil {
		t.Fatalf("the talk-off test synthesises speech with flite, which is not installed: apt-get install flite (Debian package \"flite\"; scripts/setup.sh --test): %v", err)
	}
	dir := speechCacheDir(t)
	rng := rand.New(rand.NewPCG(42, 7))
	var out []int16
	per := minSeconds / float64(len(speechVoices))
	for i, v := range speechVoices {
		// About 3.5 s per sentence on average; ask for 15 % more.
		text := speechText(rng, int(per/3.5*1.15)+1)
		clip := fliteWAV(t, flite, dir, v, text)
		if got := clip.Duration().Seconds(); got < per {
			t.Fatalf("voice %d (%s): %.0f s of speech, want at least %.0f s", i, v.name, got, per)
		}
		out = append(out, scaleToLevel(clip.Samples, level)...)
		out = append(out, make([]int16, audio.SampleRate/2)...)
	}
	return out
}

// speechCacheDir returns the directory of the cached WAV files.
func speechCacheDir(t testing.TB) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err == nil {
		dir := filepath.Join(base, "switchd", "dtmf-talkoff")
		if err = os.MkdirAll(dir, 0o755); err == nil {
			return dir
		}
	}
	t.Logf("no user cache directory (%v): speech is synthesised into a temporary one", err)
	return t.TempDir()
}

// fliteWAV synthesises text with voice v, or loads it from the cache.
func fliteWAV(t testing.TB, flite, dir string, v fliteVoice, text string) *audio.Clip {
	t.Helper()
	args := []string{"-voice", v.name}
	if v.f0 != 0 {
		args = append(args, "--setf", fmt.Sprintf("int_f0_target_mean=%g", v.f0))
	}
	if v.stretch != 0 {
		args = append(args, "--setf", fmt.Sprintf("duration_stretch=%g", v.stretch))
	}
	sum := sha256.Sum256([]byte(strings.Join(args, " ") + "\x00" + text))
	path := filepath.Join(dir, "speech-"+hex.EncodeToString(sum[:8])+".wav")
	if clip, err := audio.LoadWAV(path); err == nil {
		return clip
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Logf("cached speech unreadable, synthesising again: %v", err)
	}
	txt := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(txt, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	cmd := exec.Command(flite, append(args, "-f", txt, "-o", tmp)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("flite %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	clip, err := audio.LoadWAV(path)
	if err != nil {
		t.Fatalf("flite's output: %v", err)
	}
	return clip
}

// scaleToLevel returns x scaled so that its active level (the RMS of the
// 20 ms frames within 30 dB of the loudest) is level dBm0, clipped.
func scaleToLevel(x []int16, level float64) []int16 {
	var frames []float64
	loudest := 0.0
	for i := 0; i+audio.FrameSamples <= len(x); i += audio.FrameSamples {
		var s float64
		for _, v := range x[i : i+audio.FrameSamples] {
			s += float64(v) * float64(v)
		}
		s /= audio.FrameSamples
		frames = append(frames, s)
		loudest = max(loudest, s)
	}
	var sum float64
	var n int
	for _, s := range frames {
		if s > loudest/1000 {
			sum += s
			n++
		}
	}
	if n == 0 {
		return x
	}
	g := amplitude(level) / math.Sqrt2 / math.Sqrt(sum/float64(n))
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return out
}
