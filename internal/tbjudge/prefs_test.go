package tbjudge

import "testing"

func TestParsePrefs(t *testing.T) {
	got, err := ParsePrefs([]byte("# comment\n// comment\r/* a\n b */ user_pref(\"a\", \"x\\\"y\\\\z\\n\");\n" +
		"pref('b', -2147483648);\r\nsticky_pref(\"c\", true); lockPref(\"d\", false);\n" +
		"user_pref(\"e\", \"j\\xfcrgen \\u00fc \\ud83d\\ude00\");\nuser_pref(\"a\", \"later wins\");"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "later wins", "b": int64(-2147483648), "c": true, "d": false,
		"e": "j\xfcrgen \u00fc \U0001F600"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}

// Where Gecko reports an error and skips to the next ";", so that the rest
// of a broken line can become prefs, ParsePrefs fails.
func TestParsePrefsRefusesWhatGeckoRecoversFrom(t *testing.T) {
	for _, in := range []string{
		"user_pref(\"a\", \"x\"); user_pref(\"b\", \"\\t\");",
		"user_pref(\"a\", \"x\")\nuser_pref(\"b\", 1);",
		"user_pref(\"a\", \"unterminated);",
		"user_pref(\"a\", 2147483648);",
		"user_pref(\"a\", \"\\x00\");",
		"user_pref(\"a\", \"\\ud83d\");",
		"user_pref(\"a\", 1); / user_pref(\"b\", 1);",
		"user_pref(\"a\", 1); evil(\"b\", 1);",
	} {
		if _, err := ParsePrefs([]byte(in)); err == nil {
			t.Errorf("ParsePrefs(%q) took it", in)
		}
	}
}
