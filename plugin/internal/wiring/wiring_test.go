package wiring

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"go.temporal.io/server/common/config"
)

func TestServicesToStart(t *testing.T) {
	withIFE := &config.Config{Services: map[string]config.Service{"frontend": {}, InternalFrontend: {}}}
	withoutIFE := &config.Config{Services: map[string]config.Service{"frontend": {}}}
	tests := []struct {
		name      string
		requested []string
		explicit  bool
		cfg       *config.Config
		want      []string
	}{
		{"default set plus internal-frontend when configured", nil, false, withIFE,
			[]string{"frontend", "history", "matching", "worker", InternalFrontend}},
		{"default set alone without internal-frontend config", nil, false, withoutIFE,
			[]string{"frontend", "history", "matching", "worker"}},
		{"an explicit --service list is kept as given", []string{"history"}, true, withIFE,
			[]string{"history"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ServicesToStart(tt.requested, tt.explicit, tt.cfg); !slices.Equal(got, tt.want) {
				t.Errorf("ServicesToStart() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSystemWorkerLacksInternalFrontend(t *testing.T) {
	withIFE := &config.Config{Services: map[string]config.Service{InternalFrontend: {}}}
	withoutIFE := &config.Config{Services: map[string]config.Service{}}
	tests := []struct {
		name     string
		services []string
		cfg      *config.Config
		want     bool
	}{
		{"worker without internal-frontend", []string{"worker"}, withoutIFE, true},
		{"worker with internal-frontend configured", []string{"worker"}, withIFE, false},
		{"no worker in this process", []string{"frontend", "history"}, withoutIFE, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SystemWorkerLacksInternalFrontend(tt.services, tt.cfg); got != tt.want {
				t.Errorf("SystemWorkerLacksInternalFrontend(%v) = %v, want %v", tt.services, got, tt.want)
			}
		})
	}
}

func TestLoadAuthorization(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "issuers:\n  - issuer: https://idp.example.com/realms/temporal\n")
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "issuers:\n  - issuer: https://idp.example.com\n    audience: [x]\n")

	upstream := &config.Config{}
	upstream.Global.Authorization = config.Authorization{
		Authorizer: "default", ClaimMapper: "default",
		JWTKeyProvider: config.JWTKeyProvider{KeySourceURIs: []string{"https://idp.example.com/jwks"}},
	}
	none := &config.Config{}
	loc := serverconfig.Location{Kind: serverconfig.Dir, Path: dir, Env: "development"}

	tests := []struct {
		name       string
		file       serverconfig.AuthzFile
		serverCfg  *config.Config
		wantSource string // "" means no authorization expected
		wantErr    []string
	}{
		{name: "the file", file: serverconfig.AuthzFile{Path: good, Why: "--authz-config"}, serverCfg: none,
			wantSource: good},
		{name: "upstream keys", serverCfg: upstream, wantSource: filepath.Join(dir, "development.yaml")},
		{name: "neither", serverCfg: none},
		{name: "no server config read and no file", serverCfg: nil},
		{name: "both is an error naming both places", file: serverconfig.AuthzFile{Path: good, Why: "beside the server config"}, serverCfg: upstream,
			wantErr: []string{"configured twice", good, "global.authorization"}},
		{name: "an invalid file names the file and key", file: serverconfig.AuthzFile{Path: bad, Why: "--authz-config"}, serverCfg: none,
			wantErr: []string{bad, "issuers[0].audience"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadAuthorization(tt.file, tt.serverCfg, loc)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("LoadAuthorization() = %+v, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadAuthorization() error = %v", err)
			}
			if tt.wantSource == "" {
				if got.Config != nil {
					t.Errorf("LoadAuthorization() found %s, want no authorization", got.Source)
				}
				return
			}
			if got.Config == nil || !strings.Contains(got.Source, tt.wantSource) {
				t.Errorf("LoadAuthorization() = %+v, want a config from %q", got, tt.wantSource)
			}
		})
	}
}

func TestNoAuthorizationMessageSaysHowToFixIt(t *testing.T) {
	msg := NoAuthorizationMessage(serverconfig.Location{Kind: serverconfig.Dir, Path: "/etc/temporal/config", Env: "development", Why: "TEMPORAL_CONFIG_DIR"})
	for _, want := range []string{"refusing to start", "/etc/temporal/config/authorization.yaml", "--authz-config",
		serverconfig.EnvAuthzConfig, "global.authorization", "--allow-no-auth", EnvAllowNoAuth + "=true"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckInternalFrontendExplainsTheFix(t *testing.T) {
	without := &config.Config{Services: map[string]config.Service{"frontend": {}}}
	err := CheckInternalFrontend([]string{"frontend", "worker"}, without)
	if err == nil || !strings.Contains(err.Error(), "services.internal-frontend is not configured") ||
		!strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("CheckInternalFrontend() = %v, want an error naming services.internal-frontend and how to bind it", err)
	}
	with := &config.Config{Services: map[string]config.Service{InternalFrontend: {}}}
	if err := CheckInternalFrontend([]string{"frontend", "worker"}, with); err != nil {
		t.Errorf("CheckInternalFrontend() with internal-frontend configured = %v", err)
	}
}
