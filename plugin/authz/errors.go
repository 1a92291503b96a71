package authz

import "fmt"

// ConfigError names the file (or config section), the key and what is wrong with it.
// Start-up stops on any ConfigError: a broken authorization config never runs open.
type ConfigError struct {
	Source  string // "config/authorization.yaml" or "global.authorization in development.yaml"
	Key     string // "issuers[0].jwksFile", "authorizer.rules[2].roles[0]"
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Source, e.Key, e.Problem)
}
