// Package buildinfo holds the version and commit of the running binary.
//
// Both are set at link time, for example:
//
//	go build -ldflags "-X example.com/payments/internal/buildinfo.Version=1.2.3 \
//	    -X example.com/payments/internal/buildinfo.Commit=abc1234" ./cmd/api
package buildinfo

// Version is the release version, for example the output of `git describe`.
var Version = "dev"

// Commit is the source revision the binary was built from.
var Commit = "unknown"

// String returns "<version> (<commit>)".
func String() string {
	return Version + " (" + Commit + ")"
}
