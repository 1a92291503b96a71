package main

import (
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/api/adminservice/v1"
	"google.golang.org/grpc"
)

// knownMethods holds the full gRPC name of every method the frontend serves, read from
// the generated service descriptions so it always matches the linked server.
var knownMethods = func() map[string]bool {
	known := map[string]bool{}
	for _, desc := range []grpc.ServiceDesc{
		workflowservice.WorkflowService_ServiceDesc,
		operatorservice.OperatorService_ServiceDesc,
		adminservice.AdminService_ServiceDesc,
	} {
		for _, m := range desc.Methods {
			known["/"+desc.ServiceName+"/"+m.MethodName] = true
		}
		for _, s := range desc.Streams {
			known["/"+desc.ServiceName+"/"+s.StreamName] = true
		}
	}
	return known
}()
