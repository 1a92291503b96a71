// Package serverconfig decides where the Temporal server config comes from (a file, a
// directory, or upstream's embedded template) and where the authorization config is.
// The rules are upstream's, written out explicitly instead of being left to flag
// bindings, plus the image's own TEMPORAL_CONFIG_ENV.
//
// Server config, first match wins (a flag beats an environment variable, a file beats a
// directory):
//
//  1. --config-file FILE                       that file; combining it with --config,
//     --env, --zone or --root is an error, as upstream.
//  2. any of --config, --env, --zone, --root   the config directory (below).
//  3. TEMPORAL_SERVER_CONFIG_FILE_PATH         that file.
//  4. any of TEMPORAL_CONFIG_DIR, TEMPORAL_ROOT, TEMPORAL_CONFIG_ENV,
//     TEMPORAL_ENVIRONMENT, TEMPORAL_AVAILABILITY_ZONE
//     the config directory (below).
//  5. nothing                                  upstream's embedded template, driven by
//     environment variables.
//
// The config directory is --config, else TEMPORAL_CONFIG_DIR, else "config"; a relative
// directory is taken relative to the root (--root, else TEMPORAL_ROOT, else "."). In it,
// upstream loads base.yaml, then <env>.yaml, then <env>_<zone>.yaml, where
//
//	env  = --env, else TEMPORAL_CONFIG_ENV, else TEMPORAL_ENVIRONMENT, else "development"
//	zone = --zone, else TEMPORAL_AVAILABILITY_ZONE (or its old misspelling), else none.
package serverconfig

import (
	"errors"
	"fmt"
	"path/filepath"

	"go.temporal.io/server/common/config"
)

// Environment variables read here. The TEMPORAL_* names other than TEMPORAL_CONFIG_ENV
// and TEMPORAL_AUTHZ_CONFIG_FILE are upstream's (go.temporal.io/server/common/config).
const (
	EnvConfigFile  = config.EnvKeyConfigFile // TEMPORAL_SERVER_CONFIG_FILE_PATH
	EnvConfigDir   = config.EnvKeyConfigDir  // TEMPORAL_CONFIG_DIR
	EnvRoot        = config.EnvKeyRoot       // TEMPORAL_ROOT
	EnvConfigEnv   = "TEMPORAL_CONFIG_ENV"   // ours; wins over TEMPORAL_ENVIRONMENT
	EnvEnvironment = config.EnvKeyEnvironment
	EnvZone        = config.EnvKeyAvailabilityZone
	EnvZoneTypo    = config.EnvKeyAvailabilityZoneTypo
	EnvAuthzConfig = "TEMPORAL_AUTHZ_CONFIG_FILE" // ours
)

// Defaults as upstream.
const (
	DefaultEnv       = "development"
	DefaultConfigDir = "config"
	DefaultRoot      = "."
)

// Inputs are the raw settings. A flag field is "" when the flag was not given.
type Inputs struct {
	ConfigFileFlag  string // --config-file
	ConfigDirFlag   string // --config / -c
	RootFlag        string // --root / -r
	EnvFlag         string // --env / -e
	ZoneFlag        string // --zone / -z / --az
	AuthzConfigFlag string // --authz-config
	// Getenv reads the environment (os.Getenv outside tests).
	Getenv func(string) string
}

// Kind says which of upstream's three loaders reads the config.
type Kind int

const (
	Embedded Kind = iota // upstream's env-var-driven template compiled into the binary
	File                 // one YAML file
	Dir                  // base.yaml, <env>.yaml, <env>_<zone>.yaml in a directory
)

// Location is where the server config comes from.
type Location struct {
	Kind Kind
	Path string // the file (File) or the directory (Dir)
	Env  string // environment name, Dir only
	Zone string // availability zone, Dir only
	// Why names the flag or variable that chose this location, for logs and errors.
	Why string
}

// Resolve applies the precedence rules of the package comment.
func Resolve(in Inputs) (Location, error) {
	env := func(name string) string {
		if in.Getenv == nil {
			return ""
		}
		return in.Getenv(name)
	}
	dirFlagGiven := in.ConfigDirFlag != "" || in.EnvFlag != "" || in.ZoneFlag != "" || in.RootFlag != ""

	switch {
	case in.ConfigFileFlag != "":
		if dirFlagGiven {
			return Location{}, errors.New("--config-file can not be combined with --config, --env, --zone or --root")
		}
		return Location{Kind: File, Path: in.ConfigFileFlag, Why: "--config-file"}, nil
	case dirFlagGiven:
		return dirLocation(in, env), nil
	case env(EnvConfigFile) != "":
		return Location{Kind: File, Path: env(EnvConfigFile), Why: EnvConfigFile}, nil
	case env(EnvConfigDir) != "" || env(EnvRoot) != "" || env(EnvConfigEnv) != "" ||
		env(EnvEnvironment) != "" || env(EnvZone) != "" || env(EnvZoneTypo) != "":
		return dirLocation(in, env), nil
	default:
		return Location{Kind: Embedded, Why: "no config location given: upstream's embedded template"}, nil
	}
}

func dirLocation(in Inputs, env func(string) string) Location {
	dir, why := firstSet(
		setting{in.ConfigDirFlag, "--config"},
		setting{env(EnvConfigDir), EnvConfigDir},
		setting{DefaultConfigDir, "default"},
	)
	if !filepath.IsAbs(dir) {
		root, _ := firstSet(setting{in.RootFlag, "--root"}, setting{env(EnvRoot), EnvRoot}, setting{DefaultRoot, ""})
		dir = filepath.Join(root, dir)
	}
	envName, _ := firstSet(
		setting{in.EnvFlag, "--env"},
		setting{env(EnvConfigEnv), EnvConfigEnv},
		setting{env(EnvEnvironment), EnvEnvironment},
		setting{DefaultEnv, "default"},
	)
	zone, _ := firstSet(
		setting{in.ZoneFlag, "--zone"},
		setting{env(EnvZone), EnvZone},
		setting{env(EnvZoneTypo), EnvZoneTypo},
	)
	return Location{Kind: Dir, Path: dir, Env: envName, Zone: zone, Why: "config directory from " + why}
}

type setting struct{ value, name string }

func firstSet(settings ...setting) (value, name string) {
	for _, s := range settings {
		if s.value != "" {
			return s.value, s.name
		}
	}
	return "", ""
}

// Load reads and validates the server config with upstream's loader.
func (l Location) Load() (*config.Config, error) {
	var cfg *config.Config
	var err error
	switch l.Kind {
	case File:
		cfg, err = config.Load(config.WithConfigFile(l.Path))
	case Dir:
		cfg, err = config.Load(config.WithConfigDir(l.Path), config.WithEnv(l.Env), config.WithZone(l.Zone))
	default:
		cfg, err = config.Load(config.WithEmbedded())
	}
	if err != nil {
		return nil, fmt.Errorf("unable to load the server config (%s): %w", l, err)
	}
	return cfg, nil
}

// String describes the location for logs and errors.
func (l Location) String() string {
	switch l.Kind {
	case File:
		return fmt.Sprintf("file %s, from %s", l.Path, l.Why)
	case Dir:
		s := fmt.Sprintf("directory %s, env %q", l.Path, l.Env)
		if l.Zone != "" {
			s += fmt.Sprintf(", zone %q", l.Zone)
		}
		return s + ", " + l.Why
	default:
		return l.Why
	}
}
