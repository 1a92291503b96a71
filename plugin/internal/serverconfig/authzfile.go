package serverconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AuthorizationFileName is the authorization config looked for beside the server config.
const AuthorizationFileName = "authorization.yaml"

// AuthzFile is where the authorization config file is, if any.
type AuthzFile struct {
	Path string // "" when there is no file (upstream's global.authorization may apply)
	Why  string // the flag or variable that named it, or "beside the server config"
}

// ResolveAuthzFile finds the authorization config file, first match wins:
//
//  1. --authz-config FILE
//  2. TEMPORAL_AUTHZ_CONFIG_FILE
//  3. authorization.yaml in the config directory (or beside the --config-file), if it
//     exists. The embedded template has no directory, so it has no such file.
//
// A file named by 1 or 2 must exist: a typo in the path must not start the server with
// another (or no) authorization.
func ResolveAuthzFile(in Inputs, loc Location) (AuthzFile, error) {
	env := ""
	if in.Getenv != nil {
		env = in.Getenv(EnvAuthzConfig)
	}
	for _, explicit := range []AuthzFile{{in.AuthzConfigFlag, "--authz-config"}, {env, EnvAuthzConfig}} {
		if explicit.Path == "" {
			continue
		}
		info, err := os.Stat(explicit.Path)
		if err != nil {
			return AuthzFile{}, fmt.Errorf("%s %s: %w", explicit.Why, explicit.Path, err)
		}
		if info.IsDir() {
			return AuthzFile{}, fmt.Errorf("%s %s: is a directory, want the authorization YAML file", explicit.Why, explicit.Path)
		}
		return explicit, nil
	}

	var dir string
	switch loc.Kind {
	case Dir:
		dir = loc.Path
	case File:
		dir = filepath.Dir(loc.Path)
	default:
		return AuthzFile{}, nil
	}
	beside := filepath.Join(dir, AuthorizationFileName)
	_, err := os.Stat(beside)
	switch {
	case err == nil:
		return AuthzFile{Path: beside, Why: "beside the server config"}, nil
	case errors.Is(err, fs.ErrNotExist):
		return AuthzFile{}, nil
	default: // e.g. permission denied: the file may exist, so never run without it
		return AuthzFile{}, fmt.Errorf("authorization config %s: %w", beside, err)
	}
}
