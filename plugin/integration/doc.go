// Package integration holds end-to-end tests of the authorization plugin: a real Temporal
// server (frontend, internal-frontend, history, matching, worker) started in-process on
// SQLite with the same wiring as the temporal-server binary, a JWKS/OIDC issuer fixture,
// the real Go SDK as the client, and the built binary itself for start-up behaviour.
// Run with `go test ./integration/` in plugin/.
package integration
