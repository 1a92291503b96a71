package serverconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestResolveAuthzFile(t *testing.T) {
	withFile := t.TempDir() // a config directory that has authorization.yaml
	besideFile := filepath.Join(withFile, AuthorizationFileName)
	writeFile(t, besideFile, "issuers: []\n")
	without := t.TempDir() // a config directory that has none
	explicit := filepath.Join(t.TempDir(), "authz.yaml")
	writeFile(t, explicit, "issuers: []\n")
	missing := filepath.Join(without, "nope.yaml")

	tests := []struct {
		name     string
		flag     string
		env      string
		loc      Location
		wantPath string
		wantWhy  string
		wantErr  string
	}{
		{name: "authorization.yaml in the config directory", loc: Location{Kind: Dir, Path: withFile},
			wantPath: besideFile, wantWhy: "beside"},
		{name: "authorization.yaml beside a --config-file", loc: Location{Kind: File, Path: filepath.Join(withFile, "server.yaml")},
			wantPath: besideFile, wantWhy: "beside"},
		{name: "no file in the config directory", loc: Location{Kind: Dir, Path: without}},
		{name: "embedded template has no directory", loc: Location{Kind: Embedded}},
		{name: "--authz-config beats the config directory", flag: explicit, loc: Location{Kind: Dir, Path: withFile},
			wantPath: explicit, wantWhy: "--authz-config"},
		{name: "--authz-config beats TEMPORAL_AUTHZ_CONFIG_FILE", flag: explicit, env: besideFile, loc: Location{Kind: Embedded},
			wantPath: explicit, wantWhy: "--authz-config"},
		{name: "TEMPORAL_AUTHZ_CONFIG_FILE beats the config directory", env: explicit, loc: Location{Kind: Dir, Path: withFile},
			wantPath: explicit, wantWhy: EnvAuthzConfig},
		{name: "a missing --authz-config is an error naming the flag and path", flag: missing, loc: Location{Kind: Dir, Path: withFile},
			wantErr: "--authz-config " + missing},
		{name: "a missing TEMPORAL_AUTHZ_CONFIG_FILE is an error naming the variable", env: missing, loc: Location{Kind: Dir, Path: withFile},
			wantErr: EnvAuthzConfig + " " + missing},
		{name: "a directory given as the file is an error", flag: without, loc: Location{Kind: Embedded},
			wantErr: "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inputs{AuthzConfigFlag: tt.flag, Getenv: func(k string) string {
				if k == EnvAuthzConfig {
					return tt.env
				}
				return ""
			}}
			got, err := ResolveAuthzFile(in, tt.loc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ResolveAuthzFile() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveAuthzFile() error = %v", err)
			}
			if got.Path != tt.wantPath || !strings.Contains(got.Why, tt.wantWhy) {
				t.Errorf("ResolveAuthzFile() = %+v, want path %q why containing %q", got, tt.wantPath, tt.wantWhy)
			}
		})
	}
}
