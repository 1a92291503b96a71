package serverconfig

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestResolvePrecedence(t *testing.T) {
	tests := []struct {
		name    string
		in      Inputs
		env     map[string]string
		want    Location // Why is not compared
		wantErr string
	}{
		{
			name: "nothing given: embedded template, as upstream",
			want: Location{Kind: Embedded},
		},
		{
			name: "--config-file beats every directory setting from the environment",
			in:   Inputs{ConfigFileFlag: "/x/server.yaml"},
			env:  map[string]string{EnvConfigDir: "/etc/temporal/config", EnvConfigFile: "/y.yaml", EnvConfigEnv: "prod"},
			want: Location{Kind: File, Path: "/x/server.yaml"},
		},
		{
			name:    "--config-file with --env is an error, as upstream",
			in:      Inputs{ConfigFileFlag: "/x/server.yaml", EnvFlag: "prod"},
			wantErr: "--config-file can not be combined",
		},
		{
			name:    "--config-file with --config is an error",
			in:      Inputs{ConfigFileFlag: "/x/server.yaml", ConfigDirFlag: "/c"},
			wantErr: "--config-file can not be combined",
		},
		{
			name: "--config flag beats TEMPORAL_CONFIG_DIR and TEMPORAL_SERVER_CONFIG_FILE_PATH",
			in:   Inputs{ConfigDirFlag: "/flag/dir"},
			env:  map[string]string{EnvConfigDir: "/env/dir", EnvConfigFile: "/env/file.yaml"},
			want: Location{Kind: Dir, Path: "/flag/dir", Env: "development"},
		},
		{
			name: "TEMPORAL_SERVER_CONFIG_FILE_PATH beats TEMPORAL_CONFIG_DIR",
			env:  map[string]string{EnvConfigDir: "/env/dir", EnvConfigFile: "/env/file.yaml"},
			want: Location{Kind: File, Path: "/env/file.yaml"},
		},
		{
			name: "TEMPORAL_CONFIG_DIR alone",
			env:  map[string]string{EnvConfigDir: "/etc/temporal/config"},
			want: Location{Kind: Dir, Path: "/etc/temporal/config", Env: "development"},
		},
		{
			name: "--env alone uses upstream's default directory ./config (auto-setup's `--env docker start`)",
			in:   Inputs{EnvFlag: "docker"},
			want: Location{Kind: Dir, Path: "config", Env: "docker"},
		},
		{
			name: "--env flag beats TEMPORAL_CONFIG_ENV and TEMPORAL_ENVIRONMENT",
			in:   Inputs{EnvFlag: "flag-env"},
			env:  map[string]string{EnvConfigDir: "/c", EnvConfigEnv: "config-env", EnvEnvironment: "environment"},
			want: Location{Kind: Dir, Path: "/c", Env: "flag-env"},
		},
		{
			name: "TEMPORAL_CONFIG_ENV beats TEMPORAL_ENVIRONMENT",
			env:  map[string]string{EnvConfigDir: "/c", EnvConfigEnv: "config-env", EnvEnvironment: "environment"},
			want: Location{Kind: Dir, Path: "/c", Env: "config-env"},
		},
		{
			name: "TEMPORAL_ENVIRONMENT when TEMPORAL_CONFIG_ENV is not set",
			env:  map[string]string{EnvConfigDir: "/c", EnvEnvironment: "environment"},
			want: Location{Kind: Dir, Path: "/c", Env: "environment"},
		},
		{
			name: "TEMPORAL_CONFIG_ENV alone selects the default directory",
			env:  map[string]string{EnvConfigEnv: "production"},
			want: Location{Kind: Dir, Path: "config", Env: "production"},
		},
		{
			name: "--zone flag beats TEMPORAL_AVAILABILITY_ZONE",
			in:   Inputs{ZoneFlag: "az1"},
			env:  map[string]string{EnvZone: "az2"},
			want: Location{Kind: Dir, Path: "config", Env: "development", Zone: "az1"},
		},
		{
			name: "TEMPORAL_AVAILABILITY_ZONE beats the old misspelled variable",
			env:  map[string]string{EnvConfigDir: "/c", EnvZone: "az2", EnvZoneTypo: "az3"},
			want: Location{Kind: Dir, Path: "/c", Env: "development", Zone: "az2"},
		},
		{
			name: "the old misspelled zone variable still works",
			env:  map[string]string{EnvZoneTypo: "az3"},
			want: Location{Kind: Dir, Path: "config", Env: "development", Zone: "az3"},
		},
		{
			name: "a relative directory is relative to --root",
			in:   Inputs{RootFlag: "/srv/temporal", ConfigDirFlag: "conf"},
			want: Location{Kind: Dir, Path: "/srv/temporal/conf", Env: "development"},
		},
		{
			name: "a relative TEMPORAL_CONFIG_DIR is relative to TEMPORAL_ROOT",
			env:  map[string]string{EnvRoot: "/srv/temporal", EnvConfigDir: "conf"},
			want: Location{Kind: Dir, Path: "/srv/temporal/conf", Env: "development"},
		},
		{
			name: "--root flag beats TEMPORAL_ROOT",
			in:   Inputs{RootFlag: "/flag-root"},
			env:  map[string]string{EnvRoot: "/env-root"},
			want: Location{Kind: Dir, Path: "/flag-root/config", Env: "development"},
		},
		{
			name: "an absolute directory ignores the root",
			in:   Inputs{RootFlag: "/srv/temporal", ConfigDirFlag: "/etc/temporal/config"},
			want: Location{Kind: Dir, Path: "/etc/temporal/config", Env: "development"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Getenv = func(k string) string { return tt.env[k] }
			got, err := Resolve(in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve() error = %v", err)
			}
			if got.Why == "" {
				t.Errorf("Resolve() gave no reason for %+v", got)
			}
			got.Why = ""
			if got != tt.want {
				t.Errorf("Resolve() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveNamesTheSettingThatChoseTheLocation(t *testing.T) {
	got, err := Resolve(Inputs{Getenv: func(k string) string {
		return map[string]string{EnvConfigDir: "/etc/temporal/config"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.String(), EnvConfigDir) || !strings.Contains(got.String(), "/etc/temporal/config") {
		t.Errorf("String() = %q, want it to name %s and the directory", got, EnvConfigDir)
	}
}

func TestLoadReadsTheChosenDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "staging.yaml"), minimalServerConfig)

	cfg, err := Location{Kind: Dir, Path: dir, Env: "staging"}.Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if got := cfg.Services["frontend"].RPC.GRPCPort; got != 7233 {
		t.Errorf("frontend grpcPort = %d, want 7233 from staging.yaml", got)
	}

	_, err = Location{Kind: Dir, Path: dir, Env: "production", Why: "test"}.Load()
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Load() of a missing environment: error = %v, want one naming %s", err, dir)
	}
}

// minimalServerConfig passes upstream's validation: persistence and one service.
const minimalServerConfig = `
persistence:
  defaultStore: sqlite-default
  visibilityStore: sqlite-visibility
  numHistoryShards: 1
  datastores:
    sqlite-default:
      sql:
        pluginName: sqlite
        databaseName: default
        connectAddr: localhost
        connectProtocol: tcp
        connectAttributes: {mode: memory, cache: private}
    sqlite-visibility:
      sql:
        pluginName: sqlite
        databaseName: visibility
        connectAddr: localhost
        connectProtocol: tcp
        connectAttributes: {mode: memory, cache: private}
services:
  frontend:
    rpc:
      grpcPort: 7233
      membershipPort: 6933
      bindOnIP: 127.0.0.1
`
