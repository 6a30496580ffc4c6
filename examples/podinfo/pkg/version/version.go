// Package version holds the version and revision of the running binary, set at link
// time:
//
//	go build -ldflags "-X example.com/podinfo/pkg/version.VERSION=6.7.1 \
//	    -X example.com/podinfo/pkg/version.REVISION=abc1234" ./cmd/podinfo
package version

// VERSION is the release version, for example the output of `git describe`.
var VERSION = "dev"

// REVISION is the source revision the binary was built from.
var REVISION = "unknown"
