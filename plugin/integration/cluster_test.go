package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"github.com/hardened-temporal/temporal-image/plugin/internal/wiring"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	// audience every test token is minted for and the server requires.
	audience = "temporal-integration"
	// otherNamespace is registered next to "default"; users of default hold nothing in it.
	otherNamespace = "other"
	clusterName    = "active"
)

// cluster is one running server and what the tests need to reach it.
type cluster struct {
	frontend    string // host:port of the public frontend
	metricsURL  string // Prometheus scrape URL
	issuer      *testissuer.Issuer
	configDir   string
	serviceList []string
}

// ports is every port the server config needs, all on 127.0.0.1.
type ports struct {
	Frontend, FrontendMembership, FrontendHTTP                         int
	InternalFrontend, InternalFrontendMembership, InternalFrontendHTTP int
	History, HistoryMembership                                         int
	Matching, MatchingMembership                                       int
	Worker, WorkerMembership                                           int
	Metrics                                                            int
	DBFile                                                             string
	LogFile                                                            string
}

// startCluster writes a server config and an authorization.yaml into a temp directory,
// creates the SQLite schema with the "default" and "other" namespaces, and starts the
// server with the binary's own config loading and authorization wiring. It stops the
// server when t ends.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	issuer := testissuer.New(t)
	dir := t.TempDir()

	// The server's own log goes to a file, shown only when a test fails: the matching
	// service logs harmless start-up errors that would drown the test output.
	p := ports{DBFile: filepath.Join(dir, "temporal.db"), LogFile: filepath.Join(dir, "server.log")}
	t.Cleanup(func() { showServerLogOnFailure(t, p.LogFile) })
	ptrs := []*int{
		&p.Frontend, &p.FrontendMembership, &p.FrontendHTTP,
		&p.InternalFrontend, &p.InternalFrontendMembership, &p.InternalFrontendHTTP,
		&p.History, &p.HistoryMembership, &p.Matching, &p.MatchingMembership,
		&p.Worker, &p.WorkerMembership, &p.Metrics,
	}
	for i, port := range freePorts(t, len(ptrs)) {
		*ptrs[i] = port
	}
	writeTemplate(t, filepath.Join(dir, "development.yaml"), serverConfigTemplate, p)
	writeTemplate(t, filepath.Join(dir, serverconfig.AuthorizationFileName), authorizationTemplate, map[string]string{
		"Issuer": issuer.URL(), "Audience": audience,
	})

	// The same path as `temporal-server --config DIR start`.
	in := serverconfig.Inputs{ConfigDirFlag: dir, Getenv: func(string) string { return "" }}
	loc, err := serverconfig.Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loc.Load()
	if err != nil {
		t.Fatal(err)
	}
	createNamespaces(t, cfg)

	authzFile, err := serverconfig.ResolveAuthzFile(in, loc)
	if err != nil {
		t.Fatal(err)
	}
	setup, err := wiring.LoadAuthorization(authzFile, cfg, loc)
	if err != nil {
		t.Fatal(err)
	}
	if setup.Config == nil {
		t.Fatalf("no authorization config found in %s", dir)
	}

	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))
	metricsHandler, err := metrics.MetricsHandlerFromConfig(logger, cfg.Global.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	authzOpts, closeAuthz, err := wiring.AuthorizationOptions(cfg, setup, logger, metricsHandler)
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last (after the server stops) and also when the server
	// fails to start: key refreshers must never outlive a test.
	t.Cleanup(closeAuthz)
	services := wiring.ServicesToStart(nil, false, cfg)
	srv, err := temporal.NewServer(append([]temporal.ServerOption{
		temporal.ForServices(services),
		temporal.WithConfig(cfg),
		temporal.WithLogger(logger),
		temporal.WithCustomMetricsHandler(metricsHandler),
	}, authzOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	})
	return &cluster{
		frontend:    fmt.Sprintf("127.0.0.1:%d", p.Frontend),
		metricsURL:  fmt.Sprintf("http://127.0.0.1:%d/metrics", p.Metrics),
		issuer:      issuer,
		configDir:   dir,
		serviceList: services,
	}
}

// createNamespaces sets up the SQLite schema and writes the namespaces straight into the
// database, as an operator's schema tool would: no API call, so no token is involved.
func createNamespaces(t *testing.T, cfg *config.Config) {
	t.Helper()
	sqlCfg := cfg.Persistence.DataStores[cfg.Persistence.DefaultStore].SQL
	if err := sqlite.SetupSchema(sqlCfg); err != nil {
		t.Fatalf("SQLite schema: %v", err)
	}
	var namespaces []*sqlite.NamespaceConfig
	for _, name := range []string{"default", otherNamespace} {
		ns, err := sqlite.NewNamespaceConfig(clusterName, name, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		namespaces = append(namespaces, ns)
	}
	if err := sqlite.CreateNamespaces(sqlCfg, namespaces...); err != nil {
		t.Fatalf("creating namespaces: %v", err)
	}
}

// freePorts returns n distinct free loopback ports. All listeners stay open until every
// port is chosen: closing each at once lets the kernel hand the same port out twice.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func writeTemplate(t *testing.T, path, text string, data any) {
	t.Helper()
	var buf bytes.Buffer
	if err := template.Must(template.New(filepath.Base(path)).Parse(text)).Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serverConfigTemplate mirrors config/temporal/development.yaml with test ports, a
// temp-dir database and every listener on loopback.
const serverConfigTemplate = `
log:
  stdout: false
  outputFile: {{.LogFile}}
  level: error
persistence:
  defaultStore: sqlite-default
  visibilityStore: sqlite-visibility
  numHistoryShards: 1
  datastores:
    sqlite-default:
      sql: &sqlite
        pluginName: sqlite
        databaseName: {{.DBFile}}
        connectAddr: localhost
        connectProtocol: tcp
        connectAttributes: {cache: private, journal_mode: wal, synchronous: 2}
    sqlite-visibility:
      sql: *sqlite
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: 127.0.0.1:{{.Metrics}}
services:
  frontend:
    rpc: {grpcPort: {{.Frontend}}, membershipPort: {{.FrontendMembership}}, httpPort: {{.FrontendHTTP}}, bindOnIP: 127.0.0.1}
  internal-frontend:
    rpc: {grpcPort: {{.InternalFrontend}}, membershipPort: {{.InternalFrontendMembership}}, httpPort: {{.InternalFrontendHTTP}}, bindOnIP: 127.0.0.1}
  history:
    rpc: {grpcPort: {{.History}}, membershipPort: {{.HistoryMembership}}, bindOnIP: 127.0.0.1}
  matching:
    rpc: {grpcPort: {{.Matching}}, membershipPort: {{.MatchingMembership}}, bindOnIP: 127.0.0.1}
  worker:
    rpc: {grpcPort: {{.Worker}}, membershipPort: {{.WorkerMembership}}, bindOnIP: 127.0.0.1}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:{{.Frontend}}
      httpAddress: 127.0.0.1:{{.FrontendHTTP}}
dcRedirectionPolicy:
  policy: noop
`

// authorizationTemplate trusts the test issuer, found by OIDC discovery, and requires
// the test audience; permissions are namespace:role strings in the "permissions" claim.
const authorizationTemplate = `
issuers:
  - issuer: {{.Issuer}}
    audiences: [{{.Audience}}]
    permissions:
      - claim: permissions
tokens:
  leeway: 5s
`

// eventually polls check until it returns nil or timeout passes, then fails with the
// last error.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// showServerLogOnFailure prints the end of the server log when the test failed.
func showServerLogOnFailure(t *testing.T, path string) {
	if !t.Failed() {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("server log %s: %v", path, err)
		return
	}
	const tail = 20000
	if len(data) > tail {
		data = data[len(data)-tail:]
	}
	t.Logf("end of the server log (%s):\n%s", path, data)
}
