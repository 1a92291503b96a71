package authz

import (
	"context"
	"errors"
	"slices"
	"testing"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"google.golang.org/grpc"
)

var clusterNamespaces = []string{"default", "team-a", "team-b", "prod", "temporal-system"}

func listNamespacesResponse() *workflowservice.ListNamespacesResponse {
	resp := &workflowservice.ListNamespacesResponse{NextPageToken: []byte("page-2")}
	for _, name := range clusterNamespaces {
		resp.Namespaces = append(resp.Namespaces, &workflowservice.DescribeNamespaceResponse{
			NamespaceInfo: &namespacepb.NamespaceInfo{Name: name, Description: "the " + name + " namespace"},
		})
	}
	return resp
}

// callInterceptor runs the interceptor the way the gRPC server does, after Temporal's
// authorization interceptor put claims in the context.
func callInterceptor(t *testing.T, a *authorizer, claims *authorization.Claims, method string,
	handler grpc.UnaryHandler) (any, error) {
	t.Helper()
	ctx := context.Background()
	if claims != nil {
		ctx = context.WithValue(ctx, authorization.MappedClaims, claims)
	}
	return a.listNamespacesInterceptor()(ctx, &workflowservice.ListNamespacesRequest{},
		&grpc.UnaryServerInfo{FullMethod: method}, handler)
}

func returnNamespaces(context.Context, any) (any, error) { return listNamespacesResponse(), nil }

func namesOf(t *testing.T, resp any) []string {
	t.Helper()
	list, ok := resp.(*workflowservice.ListNamespacesResponse)
	if !ok {
		t.Fatalf("response is %T, want *ListNamespacesResponse", resp)
	}
	if string(list.GetNextPageToken()) != "page-2" {
		t.Errorf("NextPageToken = %q, want it kept (page-2)", list.GetNextPageToken())
	}
	var names []string
	for _, ns := range list.GetNamespaces() {
		names = append(names, ns.GetNamespaceInfo().GetName())
	}
	return names
}

func TestListNamespacesFiltering(t *testing.T) {
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{})
	c := callers()
	teamAndDefault := grantsCaller("alice", &Grants{
		Namespaces: map[string]authorization.Role{"default": RoleReader},
		Patterns:   []PatternGrant{newPatternGrant("team-*", RoleWorker)},
	})
	for _, tc := range []struct {
		name   string
		claims *authorization.Claims
		want   []string
	}{
		{"exact grant", c["read"], []string{"default"}},
		{"worker grant counts", c["worker"], []string{"default"}},
		{"pattern grant", c["pattern-write"], []string{"team-a", "team-b"}},
		{"exact and pattern", teamAndDefault, []string{"default", "team-a", "team-b"}},
		{"system reader sees all", c["sys-read"], clusterNamespaces},
		{"system worker sees all", c["sys-worker"], clusterNamespaces},
		{"internal system worker sees all", c["internal"], clusterNamespaces},
		{"ui role alone sees none", c["sys-ui"], nil},
		{"no grants", c["none"], nil},
		{"no claims", nil, nil},
		{"upstream claims fields", c["claims-write"], []string{"default"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := callInterceptor(t, a, tc.claims, workflowservice.WorkflowService_ListNamespaces_FullMethodName, returnNamespaces)
			if err != nil {
				t.Fatal(err)
			}
			if got := namesOf(t, resp); !slices.Equal(got, tc.want) {
				t.Errorf("namespaces = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestListNamespacesFilterDisabled(t *testing.T) {
	off := false
	a := newTestAuthorizer(t, AuthorizerConfig{FilterListNamespaces: &off}, Options{})
	resp, err := callInterceptor(t, a, callers()["read"], workflowservice.WorkflowService_ListNamespaces_FullMethodName, returnNamespaces)
	if err != nil {
		t.Fatal(err)
	}
	if got := namesOf(t, resp); !slices.Equal(got, clusterNamespaces) {
		t.Errorf("namespaces = %v, want all of %v with filterListNamespaces false", got, clusterNamespaces)
	}
}

func TestListNamespacesInterceptorPassesOtherCalls(t *testing.T) {
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{})
	// Another method's response is returned as is, whatever its type.
	resp, err := callInterceptor(t, a, callers()["read"], wfPrefix+"DescribeNamespace", returnNamespaces)
	if err != nil {
		t.Fatal(err)
	}
	if got := namesOf(t, resp); !slices.Equal(got, clusterNamespaces) {
		t.Errorf("DescribeNamespace response changed: %v", got)
	}
	// Errors from the handler pass through unchanged.
	unavailable := serviceerror.NewUnavailable("persistence down")
	_, err = callInterceptor(t, a, callers()["read"], workflowservice.WorkflowService_ListNamespaces_FullMethodName,
		func(context.Context, any) (any, error) { return nil, unavailable })
	if !errors.Is(err, unavailable) {
		t.Errorf("err = %v, want the handler's error", err)
	}
}
