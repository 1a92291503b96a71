package authz

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"google.golang.org/grpc"
)

// listNamespacesInterceptor removes from ListNamespaces responses every namespace the
// caller holds no grant in (exact or pattern), so that with uiAccess "any-role" a team
// sees its own namespaces in the UI and not everyone else's. Holders of a system role
// (temporal-system:read, write, worker or admin; not ui) see all of them.
//
// It must run after Temporal's authorization interceptor, which puts the caller's claims
// in the context: the binary appends it with temporal.WithChainedFrontendGrpcInterceptors.
// The page's NextPageToken is kept, so paging goes on over the unfiltered list; a page
// may come back shorter, or empty, while later pages still hold namespaces.
func (a *authorizer) listNamespacesInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !a.filterListNamespaces || info.FullMethod != workflowservice.WorkflowService_ListNamespaces_FullMethodName {
			return handler(ctx, req)
		}
		resp, err := handler(ctx, req)
		list, ok := resp.(*workflowservice.ListNamespacesResponse)
		if err != nil || !ok {
			return resp, err
		}
		claims, _ := ctx.Value(authorization.MappedClaims).(*authorization.Claims)
		return visibleNamespaces(claims, list), nil
	}
}

// visibleNamespaces returns resp, or a copy of it holding only the namespaces claims may
// see. Without claims (the call could not have been allowed) nothing is visible.
func visibleNamespaces(claims *authorization.Claims, resp *workflowservice.ListNamespacesResponse) *workflowservice.ListNamespacesResponse {
	filtered := &workflowservice.ListNamespacesResponse{NextPageToken: resp.GetNextPageToken()}
	if claims == nil {
		return filtered
	}
	grants, _ := claims.Extensions.(*Grants)
	if rolesIn(claims, grants, "")&^RoleUI != 0 {
		return resp
	}
	for _, ns := range resp.GetNamespaces() {
		if rolesIn(claims, grants, ns.GetNamespaceInfo().GetName())&^RoleUI != 0 {
			filtered.Namespaces = append(filtered.Namespaces, ns)
		}
	}
	return filtered
}
