package integration

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// bearer sends "authorization: Bearer <token>" on every request, as an SDK user would.
type bearer string

func (b bearer) GetHeaders(context.Context) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// options for an SDK client in namespace ns; an empty token sends no authorization header.
func (c *cluster) options(ns, token string) client.Options {
	opts := client.Options{
		HostPort:  c.frontend,
		Namespace: ns,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}
	if token != "" {
		opts.HeadersProvider = bearer(token)
	}
	return opts
}

// dial connects with the real SDK; client.Dial calls GetSystemInfo on the way.
func (c *cluster) dial(t *testing.T, ns, token string) client.Client {
	t.Helper()
	cl, err := client.Dial(c.options(ns, token))
	if err != nil {
		t.Fatalf("client.Dial(namespace %q): %v", ns, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// token mints a token from the trusted issuer for subject with permissions.
func (c *cluster) token(t *testing.T, subject string, permissions ...string) string {
	t.Helper()
	return c.issuer.Issue(t, map[string]any{
		"sub":         subject,
		"aud":         audience,
		"permissions": permissions,
	})
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// requirePermissionDenied fails unless err is a PermissionDenied whose reason names every
// one of want (the subject, the API, the namespace...). Temporal's frontend puts the
// authorizer's reason in the error's Reason field; its message stays "Request unauthorized.".
func requirePermissionDenied(t *testing.T, err error, want ...string) {
	t.Helper()
	var denied *serviceerror.PermissionDenied
	if !errors.As(err, &denied) {
		t.Fatalf("error = %v (%T), want PermissionDenied", err, err)
	}
	for _, w := range want {
		if !strings.Contains(denied.Reason, w) {
			t.Errorf("PermissionDenied reason %q does not name %q", denied.Reason, w)
		}
	}
}

func requireNoError(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
