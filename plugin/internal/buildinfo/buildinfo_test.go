package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestStringNamesEveryStampedValue(t *testing.T) {
	saved := [3]string{Version, Commit, Date}
	t.Cleanup(func() { Version, Commit, Date = saved[0], saved[1], saved[2] })
	Version, Commit, Date = "1.31.2-7", "0123abc", "2026-12-03T10:00:00Z"

	out := String()
	for _, want := range []string{
		"temporal-server 1.31.2-7",
		"commit:          0123abc",
		"built:           2026-12-03T10:00:00Z",
		"temporal server: " + TemporalVersion(),
		runtime.Version(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("String() = %q, missing %q", out, want)
		}
	}
}

func TestTemporalVersionIsTheLinkedServer(t *testing.T) {
	// A version string like "1.31.2": digits and dots, never empty.
	v := TemporalVersion()
	if v == "" || strings.Trim(v, "0123456789.") != "" {
		t.Fatalf("TemporalVersion() = %q, want a release number such as 1.31.2", v)
	}
}
