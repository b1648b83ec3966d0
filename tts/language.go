package tts

import (
	"fmt"
	"strings"
)

// DefaultLanguage is used when a Request has no Language.
const DefaultLanguage = "en"

// MaxTextBytes bounds the text of one Request. Prompts are sentences; a
// longer text is almost certainly a mistake (or an attempt to keep an
// engine busy).
const MaxTextBytes = 4096

// CanonicalLanguage normalises a BCP-47-ish tag for the engines: lower
// case, "-" as separator, "" → DefaultLanguage, and Chinese tags mapped
// to the spoken language the engines know: "zh", "zh-CN", "zh-TW",
// "zh-Hans", "zh-cmn" … → "cmn" (Mandarin); "zh-HK", "zh-MO", "zh-yue" →
// "yue" (Cantonese). Other tags pass through; engines fall back from
// "de-AT" to "de" themselves.
func CanonicalLanguage(tag string) string {
	t := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(tag, "_", "-")))
	if t == "" {
		return DefaultLanguage
	}
	if t != "zh" && !strings.HasPrefix(t, "zh-") {
		return t
	}
	switch rest := strings.TrimPrefix(strings.TrimPrefix(t, "zh"), "-"); {
	case rest == "hk", rest == "mo", rest == "yue", strings.HasPrefix(rest, "yue-"),
		strings.HasSuffix(rest, "-hk"), strings.HasSuffix(rest, "-mo"):
		return "yue"
	default:
		return "cmn"
	}
}

// baseLanguage returns the primary subtag: "en-us" → "en".
func baseLanguage(lang string) string {
	if i := strings.IndexByte(lang, '-'); i > 0 {
		return lang[:i]
	}
	return lang
}

// cleanText prepares request text for an engine: NUL bytes and invalid
// UTF-8 become spaces, surrounding space is trimmed, and empty or
// oversized text is refused.
func cleanText(s string) (string, error) {
	s = strings.ToValidUTF8(s, " ")
	s = strings.TrimSpace(strings.ReplaceAll(s, "\x00", " "))
	switch {
	case s == "":
		return "", ErrEmptyText
	case len(s) > MaxTextBytes:
		return "", fmt.Errorf("%w: %d bytes (limit %d)", ErrTextTooLong, len(s), MaxTextBytes)
	}
	return s, nil
}

// splitVoice splits a Router voice "engine:voice" (or a bare engine name
// such as "espeak-ng") into the engine it pins and the voice the engine
// sees. A voice naming no engine is returned as is with engine "".
func splitVoice(v string, engines []string) (engine, voice string) {
	v = strings.TrimSpace(v)
	name, rest, found := strings.Cut(v, ":")
	for _, e := range engines {
		if engineAlias(name) == e {
			if found {
				return e, strings.TrimSpace(rest)
			}
			return e, ""
		}
	}
	return "", v
}

// engineAlias maps the short names admins write to engine names.
func engineAlias(name string) string {
	switch n := strings.ToLower(strings.TrimSpace(name)); n {
	case "espeak", "espeakng", "espeak_ng":
		return EspeakName
	default:
		return n
	}
}
