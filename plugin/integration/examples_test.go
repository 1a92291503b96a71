package integration

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"github.com/hardened-temporal/temporal-image/plugin/internal/wiring"
)

// exampleDir holds the server config examples shipped in the repository.
var exampleDir = filepath.Join("..", "..", "config", "temporal")

// TestExampleConfigsLoad reads every shipped server config example with upstream's
// loader, finds the authorization.yaml beside it as start does, and checks that
// authorization is on and internal-frontend is started.
func TestExampleConfigsLoad(t *testing.T) {
	env := map[string]string{ // production.yaml is a template reading these
		"POSTGRES_HOST": "db.internal", "POSTGRES_USER": "temporal", "POSTGRES_PASSWORD": "secret",
		"POD_IP": "10.0.0.7", "TEMPORAL_FRONTEND_ADDRESS": "temporal-frontend:7233",
	}
	for _, name := range []string{"development", "production"} {
		t.Run(name, func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			in := serverconfig.Inputs{ConfigDirFlag: exampleDir, EnvFlag: name, Getenv: func(string) string { return "" }}
			loc, err := serverconfig.Resolve(in)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := loc.Load()
			if err != nil {
				t.Fatalf("loading %s.yaml: %v", name, err)
			}
			file, err := serverconfig.ResolveAuthzFile(in, loc)
			if err != nil {
				t.Fatal(err)
			}
			setup, err := wiring.LoadAuthorization(file, cfg, loc)
			if err != nil {
				t.Fatalf("authorization for %s.yaml: %v", name, err)
			}
			if setup.Config == nil {
				t.Fatalf("%s.yaml: no authorization found; start would refuse to run", name)
			}
			services := wiring.ServicesToStart(nil, false, cfg)
			if !slices.Contains(services, wiring.InternalFrontend) {
				t.Errorf("%s.yaml: services to start %v lack %s", name, services, wiring.InternalFrontend)
			}
			if wiring.SystemWorkerLacksInternalFrontend(services, cfg) {
				t.Errorf("%s.yaml: the system worker would have no internal-frontend", name)
			}
		})
	}
}
