package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"github.com/hardened-temporal/temporal-image/plugin/internal/wiring"
	"github.com/urfave/cli/v2"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
)

// Exit codes of `authz check`, documented in its usage text and the README.
const (
	exitAllowed = 0 // config valid; token accepted; the call is allowed
	exitError   = 1 // invalid config or usage
	exitDenied  = 3 // the token is rejected, or the call is denied
)

func authzCommand(getenv func(string) string) *cli.Command {
	return &cli.Command{
		Name:  "authz",
		Usage: "Inspect the authorization config",
		Subcommands: []*cli.Command{{
			Name:  "check",
			Usage: "validate the authorization config; with a token or claims, explain the grants and a decision",
			Description: `Finds the authorization config exactly as start does (--authz-config, $` + serverconfig.EnvAuthzConfig + `,
authorization.yaml beside the server config, or global.authorization in it) and validates it.

With --token, --token-file or --claims it prints the subject and the grants the token maps to;
with --api (and --namespace for namespace APIs) it also prints the decision and its reason.
A token is verified exactly as the server verifies it, so its issuer's keys must be reachable.
--claims takes the token's JSON payload and skips verification.

Exit codes: 0 valid / allowed, 1 invalid config or usage, 3 token rejected or call denied.`,
			ArgsUsage: " ",
			Flags: append(configFlags(),
				&cli.StringFlag{Name: "token", Usage: "a JWT, as sent after \"Bearer \""},
				&cli.StringFlag{Name: "token-file", Usage: "file holding a JWT (\"-\" for stdin)"},
				&cli.StringFlag{Name: "claims", Usage: "JSON file holding a token's claims (not verified)"},
				&cli.StringFlag{Name: "api", Usage: "API to decide, short (StartWorkflowExecution) or full (/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution)"},
				&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace of the call"},
			),
			Action: func(c *cli.Context) error { return authzCheck(c, getenv) },
		}},
	}
}

func authzCheck(c *cli.Context, getenv func(string) string) error {
	out := c.App.Writer
	setup, err := authzCheckSetup(c, getenv)
	if err != nil {
		return cli.Exit("ERROR: "+err.Error(), exitError)
	}
	if setup.Config == nil {
		return cli.Exit("ERROR: no authorization is configured: start would refuse to run (see `temporal-server start --help`)", exitError)
	}
	svc, err := authz.New(setup.Config, authz.Options{Logger: log.NewNoopLogger()})
	if err != nil {
		return cli.Exit("ERROR: "+err.Error(), exitError)
	}
	defer svc.Close()
	fmt.Fprintf(out, "config:    ok (%s)\n", setup.Source)

	// Discovery then JWKS, each bounded by keys.fetchTimeout (set by authz.New's defaults).
	keysWait := 2*setup.Config.Keys.FetchTimeout + time.Second
	claims, err := checkClaims(c, svc, keysWait)
	if err != nil {
		var rejected tokenRejected
		if errors.As(err, &rejected) {
			fmt.Fprintf(out, "token:     rejected: %v\n", rejected.err)
			return cli.Exit("", exitDenied)
		}
		return cli.Exit("ERROR: "+err.Error(), exitError)
	}
	if claims == nil {
		return nil // only the config was checked
	}
	fmt.Fprintf(out, "subject:   %s\n", claims.Subject)
	grants := authz.DescribeGrants(claims)
	if len(grants) == 0 {
		fmt.Fprintln(out, "grants:    (none)")
	}
	for i, g := range grants {
		label := "grants:   "
		if i > 0 {
			label = "          "
		}
		fmt.Fprintf(out, "%s %s\n", label, g)
	}

	if !c.IsSet("api") {
		return nil
	}
	apiName, err := fullAPIName(c.String("api"))
	if err != nil {
		return cli.Exit("ERROR: --api: "+err.Error(), exitError)
	}
	namespace := c.String("namespace")
	if api.GetMethodMetadata(apiName).Scope == api.ScopeNamespace && namespace == "" {
		return cli.Exit("ERROR: --namespace is required: "+api.MethodName(apiName)+" is a namespace API", exitError)
	}
	result, err := svc.Authorizer().Authorize(context.Background(), claims,
		&authorization.CallTarget{APIName: apiName, Namespace: namespace})
	if err != nil {
		return cli.Exit("ERROR: authorizer: "+err.Error(), exitError)
	}
	fmt.Fprintf(out, "api:       %s\n", apiName)
	fmt.Fprintf(out, "namespace: %s\n", namespace)
	if result.Decision == authorization.DecisionAllow {
		fmt.Fprintln(out, "decision:  allow")
	} else {
		fmt.Fprintln(out, "decision:  deny")
	}
	if result.Reason != "" {
		fmt.Fprintf(out, "reason:    %s\n", result.Reason)
	}
	if result.Decision != authorization.DecisionAllow {
		return cli.Exit("", exitDenied)
	}
	return nil
}

// authzCheckSetup finds and loads the authorization config as start does. The server
// config is read only when a file or directory was named: the embedded template needs
// a full set of environment variables that an operator's shell rarely has.
func authzCheckSetup(c *cli.Context, getenv func(string) string) (wiring.Setup, error) {
	in := configInputs(c, getenv)
	loc, err := serverconfig.Resolve(in)
	if err != nil {
		return wiring.Setup{}, err
	}
	var serverCfg *config.Config
	if loc.Kind != serverconfig.Embedded {
		if serverCfg, err = loc.Load(); err != nil {
			return wiring.Setup{}, err
		}
	}
	file, err := serverconfig.ResolveAuthzFile(in, loc)
	if err != nil {
		return wiring.Setup{}, err
	}
	return wiring.LoadAuthorization(file, serverCfg, loc)
}

// tokenRejected marks a token or claims the server would refuse, as opposed to a usage error.
type tokenRejected struct{ err error }

func (t tokenRejected) Error() string { return t.err.Error() }

// checkClaims maps the token or claims given on the command line; nil when none was.
func checkClaims(c *cli.Context, svc *authz.Service, keysWait time.Duration) (*authorization.Claims, error) {
	given := 0
	for _, name := range []string{"token", "token-file", "claims"} {
		if c.IsSet(name) {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, errors.New("give only one of --token, --token-file and --claims")
	case given == 0:
		if c.IsSet("api") {
			return nil, errors.New("--api needs --token, --token-file or --claims")
		}
		return nil, nil
	}

	if c.IsSet("claims") {
		data, err := os.ReadFile(c.String("claims"))
		if err != nil {
			return nil, fmt.Errorf("--claims: %w", err)
		}
		claims, err := svc.MapClaims(data)
		if err != nil {
			return nil, tokenRejected{fmt.Errorf("--claims %s: %w", c.String("claims"), err)}
		}
		return claims, nil
	}

	token := c.String("token")
	if c.IsSet("token-file") {
		data, err := readTokenFile(c.String("token-file"), c.App.Reader)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		token = data
	}
	token = strings.TrimPrefix(strings.TrimSpace(token), "Bearer ")
	claims, err := mapTokenOnceKeysArrive(svc, token, keysWait)
	if err != nil {
		return nil, tokenRejected{err}
	}
	return claims, nil
}

// mapTokenOnceKeysArrive verifies token, waiting up to wait for the first key fetch:
// a server keeps running while its keys load, but this tool runs once, just after start.
// authz.Service reports missing keys only in its error text ("no signing keys yet").
func mapTokenOnceKeysArrive(svc *authz.Service, token string, wait time.Duration) (*authorization.Claims, error) {
	deadline := time.Now().Add(wait)
	for {
		claims, err := svc.MapToken(token)
		if err == nil || !strings.Contains(err.Error(), "no signing keys yet") || time.Now().After(deadline) {
			return claims, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readTokenFile(path string, stdin io.Reader) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	return strings.TrimSpace(string(data)), err
}

// servicePrefixes are tried in order to complete a short API name, so that a name both
// services have (GetSearchAttributes) means the public WorkflowService one.
var servicePrefixes = []string{api.WorkflowServicePrefix, api.OperatorServicePrefix, api.AdminServicePrefix}

// fullAPIName turns "StartWorkflowExecution" into the full gRPC method name the
// authorizer sees. Names are checked against the services' gRPC descriptions.
func fullAPIName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		if knownMethods[name] {
			return name, nil
		}
		return "", fmt.Errorf("unknown API %q", name)
	}
	for _, prefix := range servicePrefixes {
		if knownMethods[prefix+name] {
			return prefix + name, nil
		}
	}
	return "", fmt.Errorf("unknown API %q: want a method of WorkflowService, OperatorService or AdminService, such as StartWorkflowExecution", name)
}
