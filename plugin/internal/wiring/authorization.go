// Package wiring connects the authorization package to Temporal's server: it finds the
// one authorization config (file or upstream keys), builds the server options that plug
// the authorizer, claim mapper and ListNamespaces filter into the frontend, and decides
// which services run. The binary and the in-process integration tests both use it, so
// the tests exercise the wiring the image ships.
package wiring

import (
	"fmt"
	"path/filepath"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"go.temporal.io/server/common/config"
)

// EnvAllowNoAuth is upstream's opt-out variable (TEMPORAL_ALLOW_NO_AUTH).
const EnvAllowNoAuth = config.EnvKeyAllowNoAuth

// Setup is the authorization config and where it came from.
type Setup struct {
	Config *authz.Config // nil: no authorization configured anywhere
	Source string        // "file /etc/temporal/config/authorization.yaml (beside the server config)"
}

// LoadAuthorization finds the one authorization config: the authorization file if there
// is one, else upstream's global.authorization keys in the server config (the seed
// deployment). Both at once is an error: which one wins would be a guess, and the guess
// could be the weaker one. serverCfg may be nil when no server config was read.
func LoadAuthorization(file serverconfig.AuthzFile, serverCfg *config.Config, loc serverconfig.Location) (Setup, error) {
	upstreamSource := "global.authorization in " + ServerConfigName(loc)
	upstreamSet := serverCfg != nil && upstreamConfigured(&serverCfg.Global.Authorization)

	if file.Path != "" {
		if upstreamSet {
			return Setup{}, fmt.Errorf("authorization configured twice: in %s (%s) and in %s (authorizer/claimMapper); keep one of them",
				file.Path, file.Why, upstreamSource)
		}
		cfg, err := authz.LoadFile(file.Path)
		if err != nil {
			return Setup{}, err
		}
		return Setup{Config: cfg, Source: fmt.Sprintf("file %s (%s)", file.Path, file.Why)}, nil
	}
	if serverCfg == nil {
		return Setup{}, nil
	}
	cfg, err := authz.FromUpstream(&serverCfg.Global.Authorization, upstreamSource)
	if err != nil {
		return Setup{}, err
	}
	if cfg == nil {
		return Setup{}, nil
	}
	return Setup{Config: cfg, Source: upstreamSource}, nil
}

// upstreamConfigured reports whether the server config asks for an authorizer or a claim
// mapper, which is how upstream's binary turns authorization on.
func upstreamConfigured(a *config.Authorization) bool {
	return a.Authorizer != "" || a.ClaimMapper != ""
}

// ServerConfigName names the server config for messages: the file, the files read from
// the directory, or the embedded template.
func ServerConfigName(loc serverconfig.Location) string {
	switch loc.Kind {
	case serverconfig.File:
		return loc.Path
	case serverconfig.Dir:
		name := filepath.Join(loc.Path, "base.yaml") + " or " + filepath.Join(loc.Path, loc.Env+".yaml")
		if loc.Zone != "" {
			name += " or " + filepath.Join(loc.Path, loc.Env+"_"+loc.Zone+".yaml")
		}
		return name
	default:
		return "the embedded config template"
	}
}

// NoAuthorizationMessage says why start-up stopped and the ways forward.
func NoAuthorizationMessage(loc serverconfig.Location) string {
	where := "an " + serverconfig.AuthorizationFileName + " beside the server config"
	switch loc.Kind {
	case serverconfig.Dir:
		where = filepath.Join(loc.Path, serverconfig.AuthorizationFileName)
	case serverconfig.File:
		where = filepath.Join(filepath.Dir(loc.Path), serverconfig.AuthorizationFileName)
	}
	return fmt.Sprintf(`refusing to start: no authorization is configured, so anyone who can reach the frontend could do anything.
Server config: %s.
Configure authorization with one of:
  - %s (or a file named by --authz-config or %s);
  - upstream's keys in the server config: global.authorization.authorizer: default, claimMapper: default, jwtKeyProvider.keySourceURIs: [...].
To run without authorization anyway (development only), pass --allow-no-auth or set %s=true.`,
		loc, where, serverconfig.EnvAuthzConfig, EnvAllowNoAuth)
}
