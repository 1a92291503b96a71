// Package bench holds the end-to-end load benchmark: a Temporal server started in this
// process on in-memory SQLite, once with our authorization and once without any
// (the --allow-no-auth equivalent), driven by the Go SDK with the same concurrent load.
//
// It is behind the e2ebench build tag so that `go test ./...` never runs it:
//
//	go test -tags e2ebench -run TestEndToEndLoad -v ./bench/ -args -e2e.out results.json
//
// tooling/bench.py (nox -s bench) runs it together with the micro-benchmarks in
// plugin/authz and writes the results table of docs/performance.md.
package bench
