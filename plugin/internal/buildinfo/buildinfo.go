// Package buildinfo holds what the build stamps into the binary: the image version, the
// commit and the build date. They are set with the linker, for example:
//
//	go build -ldflags "\
//	  -X github.com/hardened-temporal/temporal-image/plugin/internal/buildinfo.Version=1.31.2-1 \
//	  -X github.com/hardened-temporal/temporal-image/plugin/internal/buildinfo.Commit=$(git rev-parse HEAD) \
//	  -X github.com/hardened-temporal/temporal-image/plugin/internal/buildinfo.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
//	  ./cmd/temporal-server
//
// An unstamped build (go run, go test) reports "dev", "unknown", "unknown".
package buildinfo

import (
	"fmt"
	"runtime"

	"go.temporal.io/server/common/headers"
)

// Stamped with -ldflags -X; see the package comment. They must stay plain string
// variables (not constants, not initialised by a function call) for -X to work.
var (
	Version = "dev"
	Commit  = "unknown"
	Date    = "unknown"
)

// TemporalVersion is the version of go.temporal.io/server linked into this binary.
func TemporalVersion() string { return headers.ServerVersion }

// String is what `temporal-server --version` prints, one fact per line.
func String() string {
	return fmt.Sprintf("temporal-server %s\n"+
		"  commit:          %s\n"+
		"  built:           %s\n"+
		"  temporal server: %s\n"+
		"  go:              %s %s/%s\n",
		Version, Commit, Date, TemporalVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
