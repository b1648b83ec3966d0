package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type ctx struct {
	vars map[string]string
	now  time.Time
}

func (c ctx) Var(n string) string { return c.vars[n] }
func (c ctx) Now() time.Time      { return c.now }

var testCtx = ctx{
	vars: map[string]string{
		"caller": "+442071234567", "level": "3", "tier": "Gold", "empty": "", "flag": "true",
		"customer.vip_level": "4", "ten": "10", "nine": "9", "word": "no",
	},
	now: time.Date(2025, 6, 7, 22, 30, 0, 0, time.UTC), // a Saturday
}

func TestEval(t *testing.T) {
	for src, want := range map[string]string{
		`true`:                               "true",
		`1.50`:                               "1.5",
		`-2`:                                 "-2",
		`'single' == "single"`:               "true",
		`"a\"b\\c\n"`:                        "a\"b\\c\n",
		`caller`:                             "+442071234567",
		`unset`:                              "",
		`level == 3`:                         "true",
		`level == "3"`:                       "true",
		`level >= 3 && level < 4`:            "true",
		`customer.vip_level > 3`:             "true",
		`ten > nine`:                         "true", // both numbers: numeric
		`tier > "A"`:                         "true",
		`tier == 3`:                          "false", // not a number: unequal
		`flag == true`:                       "true",
		`word == false`:                      "false", // "no" is not a boolean text
		`!flag`:                              "false",
		`not (level == 3) or tier == "Gold"`: "true",
		`level == 3 and tier == "Silver"`:    "false",
		`lower(tier) in ["gold", "silver"]`:  "true",
		`tier not in ["gold", "silver"]`:     "true",
		`level in [1, 2, 3]`:                 "true",
		`matches(caller, "^\\+44")`:          "true",
		`matches(caller, "^\\+1")`:           "false",
		`starts_with(caller, "+44")`:         "true",
		`ends_with(caller, "67")`:            "true",
		`contains(tier, "ol")`:               "true",
		`len(caller)`:                        "13",
		`upper(tier)`:                        "GOLD",
		`hour()`:                             "22",
		`minute()`:                           "30",
		`weekday()`:                          "sat",
		`date()`:                             "2025-06-07",
		`weekday() in ["sat", "sun"]`:        "true",
		`time_between("09:00", "18:00")`:     "false",
		`time_between("22:00", "06:00")`:     "true",
		`time_between("22:30", "22:31")`:     "true",
		`time_between("08:00", "22:30")`:     "false",
		`if(level > 2, "high", "low")`:       "high",
		`if(empty, 1, 2)`:                    "2",
		`empty || word`:                      "false",
		`(level == 3) == true`:               "true",
		`if(level > 5, nosuch > 1, "lazy")`:  "lazy",
		`len("héllo") == 5`:                  "true",
		`caller != "" && !(caller == "anonymous")`: "true",
	} {
		e, err := Parse(src)
		if err != nil {
			t.Errorf("Parse(%s): %v", src, err)
			continue
		}
		v, err := e.Eval(testCtx)
		if err != nil {
			t.Errorf("Eval(%s): %v", src, err)
			continue
		}
		if v.String() != want {
			t.Errorf("%s = %q, want %q", src, v.String(), want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	for _, src := range []string{`tier > 3`, `flag < 3`, `hour() > tier`} {
		e := MustParse(src)
		if _, err := e.Eval(testCtx); !errors.Is(err, ErrEval) {
			t.Errorf("%s: err = %v, want ErrEval", src, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		``:                          "column 1: empty expression",
		`caller = 1`:                `column 8: unexpected "=" (compare with "=="; expressions cannot assign)`,
		`caller ==`:                 `column 10: unexpected the end`,
		`(a == 1`:                   `column 8: expected ")", found the end`,
		`a == 1)`:                   `column 7: unexpected ")"`,
		`"open`:                     `column 1: unterminated string`,
		`"a\q"`:                     `column 3: unknown escape \q`,
		`foo(1)`:                    `column 1: unknown function "foo" (functions: contains, date, ends_with, hour, if, len, lower, matches, minute, starts_with, time_between, upper, weekday)`,
		`len(a, b)`:                 `column 1: len takes 1 argument, not 2`,
		`len()`:                     `column 1: len takes 1 argument, not 0`,
		`hour(1)`:                   `column 1: hour takes 0 arguments, not 1`,
		`matches(a, b)`:             `column 12: the regular expression of matches must be a string literal`,
		`matches(a, "(")`:           "column 12: bad regular expression: missing closing ): `(`",
		`1 == "a"`:                  `column 3: compares a number with a string`,
		`true < false`:              `column 1: "<" cannot order booleans`,
		`"a" && b`:                  `column 1: "&&" needs conditions on both sides, not a string`,
		`!"x"`:                      `column 2: "!" needs a condition, not a string`,
		`a in b`:                    `column 6: in needs a list: ["a", "b"]`,
		`[1, 2]`:                    `column 1: a list is only allowed after in`,
		`a in [[1]]`:                `column 7: lists cannot be nested`,
		`a == [1]`:                  `column 6: a list is only allowed after in`,
		`12abc`:                     `column 3: unexpected 'a' after a number`,
		`1.2.3`:                     `column 1: "1.2.3" is not a number`,
		`a @ b`:                     `column 3: unexpected '@'`,
		`- a`:                       `column 3: "-" must be followed by a number`,
		`time_between("9:00", "x")`: `column 22: time_between takes two literal times of day: time_between("09:00", "18:00")`,
		`if(1, 2, 3)`:               `column 4: argument 1 of if must be a boolean, not a number`,
		`é == 1`:                    `column 1: unexpected 'é'`,
		`"é" == x y`:                `column 10: unexpected "y"`,
		`and`:                       `column 1: unexpected "and"`,
		strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40): "column 33: nested more than 32 deep",
		strings.Repeat("a", MaxLen+1):                           "column 1: longer than 2000 bytes",
	} {
		_, err := Parse(src)
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%.40s) = %v, want a SyntaxError", src, err)
			continue
		}
		if err.Error() != want {
			t.Errorf("Parse(%.40s) = %q, want %q", src, err.Error(), want)
		}
	}
}

func TestVarsAndType(t *testing.T) {
	e := MustParse(`caller == "x" || customer.vip >= 2 && caller != dialled`)
	if got := strings.Join(e.Vars(), ","); got != "caller,customer.vip,dialled" {
		t.Errorf("Vars = %s", got)
	}
	if e.Type() != TypeBool || MustParse(`len(x)`).Type() != TypeNumber || MustParse(`x`).Type() != TypeAny {
		t.Error("types")
	}
	if MustParse(`if(x == 1, "a", "b")`).Type() != TypeString || MustParse(`if(x == 1, "a", 2)`).Type() != TypeAny {
		t.Error("if types")
	}
	if len(Functions()) != len(FunctionNames()) {
		t.Error("functions without documentation")
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]int{"00:00": 0, "09:30": 570, "24:00": 1440, "24:01": -1, "9:30": -1, "12:60": -1, "ab:cd": -1} {
		got, ok := ParseClock(s)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("ParseClock(%q) = %d, want %d", s, got, want)
		}
	}
}

// FuzzExpr checks that parsing never panics and that whatever parses
// evaluates without panicking, deterministically.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		`caller == "x"`, `level >= 3 && !(tier in ["a", 'b'])`, `matches(caller, "^\\+44[0-9]+$")`,
		`if(hour() < 12, "am", "pm")`, `time_between("22:00", "06:00") or weekday() == "sun"`,
		`len(upper(lower(x))) > -1.5`, `((((a))))`, `"unterminated`, `a not in [1, "2", true]`, `date() == "2025-12-25"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Col < 1 {
				t.Fatalf("Parse(%q) error %v is not a SyntaxError with a column", src, err)
			}
			return
		}
		v1, err1 := e.Eval(testCtx)
		v2, err2 := e.Eval(testCtx)
		if v1.String() != v2.String() || (err1 == nil) != (err2 == nil) {
			t.Fatalf("Eval(%q) not deterministic", src)
		}
		if err1 != nil && !errors.Is(err1, ErrEval) {
			t.Fatalf("Eval(%q) error %v is not ErrEval", src, err1)
		}
	})
}
