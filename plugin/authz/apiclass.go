package authz

import (
	"sync"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/api/adminservice/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/service/frontend/configs"
	"google.golang.org/grpc"
)

// apiClass is everything the authorizer needs to know about one API method. The table of
// them is built once, so a decision is one map lookup and a few bit tests.
type apiClass struct {
	full  string // "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution"
	short string // "StartWorkflowExecution"
	// scope and access come from upstream's api.GetMethodMetadata, the same table
	// Temporal's default authorizer reads, so new upstream methods are classified there.
	scope  api.Scope
	access api.Access
	// worker: part of what an SDK worker process calls (see workerAPIs).
	worker bool
	// uiRead: a cluster-level read the Temporal UI makes on every page (see uiReadAPIs).
	uiRead bool
	// systemAdminOnly: needs temporal-system:admin whatever the metadata says.
	systemAdminOnly bool
}

// workerAPIs is what the worker role grants in a namespace: exactly the calls the Go SDK
// (internal_task_pollers.go, internal_task_handlers.go, internal_worker.go,
// internal_nexus_task_poller.go, internal_workflow_client.go) and the Python SDK (through
// sdk-core's WorkerClient) make from a worker process:
//
//	| API                                       | why a worker calls it                          |
//	|-------------------------------------------|------------------------------------------------|
//	| GetSystemInfo                             | server capabilities, at start (always allowed) |
//	| DescribeNamespace                         | namespace check and settings, at start         |
//	| PollWorkflowTaskQueue                     | fetch workflow tasks                           |
//	| RespondWorkflowTaskCompleted, ...Failed   | report workflow task results                   |
//	| RespondQueryTaskCompleted                 | answer queries                                 |
//	| GetWorkflowExecutionHistory               | replay after a sticky-cache miss, paging       |
//	| ResetStickyTaskQueue                      | drop stickiness of an evicted workflow         |
//	| PollActivityTaskQueue                     | fetch activity tasks                           |
//	| RecordActivityTaskHeartbeat[ById]         | activity heartbeats                            |
//	| RespondActivityTaskCompleted[ById]        | activity results                               |
//	| RespondActivityTaskFailed[ById]           | activity failures                              |
//	| RespondActivityTaskCanceled[ById]         | activity cancellations                         |
//	| PollNexusTaskQueue                        | fetch Nexus tasks                              |
//	| RespondNexusTaskCompleted, ...Failed      | Nexus results                                  |
//	| RecordWorkerHeartbeat                     | worker liveness (SDK worker heartbeats)        |
//	| ShutdownWorker                            | release sticky queue and polls on shutdown     |
//
// Nothing else: a worker cannot start, signal, cancel, terminate, list or describe
// workflows, and does not get the versioning reads (GetWorkerBuildIdCompatibility,
// GetWorkerVersioningRules, GetWorkerTaskReachability) or DescribeTaskQueue, which only
// client code calls. An activity that itself uses a client to start workflows needs a
// write grant.
var workerAPIs = []string{
	"GetSystemInfo",
	"DescribeNamespace",
	"PollWorkflowTaskQueue",
	"RespondWorkflowTaskCompleted",
	"RespondWorkflowTaskFailed",
	"RespondQueryTaskCompleted",
	"GetWorkflowExecutionHistory",
	"ResetStickyTaskQueue",
	"PollActivityTaskQueue",
	"RecordActivityTaskHeartbeat",
	"RecordActivityTaskHeartbeatById",
	"RespondActivityTaskCompleted",
	"RespondActivityTaskCompletedById",
	"RespondActivityTaskFailed",
	"RespondActivityTaskFailedById",
	"RespondActivityTaskCanceled",
	"RespondActivityTaskCanceledById",
	"PollNexusTaskQueue",
	"RespondNexusTaskCompleted",
	"RespondNexusTaskFailed",
	"RecordWorkerHeartbeat",
	"ShutdownWorker",
}

// uiReadAPIs are the cluster-scope reads the Temporal UI makes before it can show any
// namespace. Upstream gives them to system roles only (temporalio/temporal#11639), which
// leaves namespace-scoped users with a broken UI; authorizer.uiAccess decides who gets them.
// GetSystemInfo, also needed, is always allowed.
var uiReadAPIs = []string{"GetClusterInfo", "ListNamespaces", "GetSearchAttributes"}

// nexusAPIs are the names the frontend's Nexus HTTP handlers authorize with. They are not
// gRPC methods, so no service descriptor lists them.
var nexusAPIs = []string{
	configs.DispatchNexusTaskByNamespaceAndTaskQueueAPIName,
	configs.DispatchNexusTaskByEndpointAPIName,
	configs.CompleteNexusOperation,
}

// frontendServices are the gRPC services the frontend serves and authorizes.
var frontendServices = []*grpc.ServiceDesc{
	&workflowservice.WorkflowService_ServiceDesc,
	&operatorservice.OperatorService_ServiceDesc,
	&adminservice.AdminService_ServiceDesc,
}

// knownAPIs maps every full API name the frontend authorizes to its class.
var knownAPIs = sync.OnceValue(func() map[string]*apiClass {
	var names []string
	for _, svc := range frontendServices {
		prefix := "/" + svc.ServiceName + "/"
		for _, m := range svc.Methods {
			names = append(names, prefix+m.MethodName)
		}
		for _, s := range svc.Streams {
			names = append(names, prefix+s.StreamName)
		}
	}
	names = append(names, nexusAPIs...)

	classes := make(map[string]*apiClass, len(names))
	for _, name := range names {
		c := classifyByMetadata(name)
		classes[name] = &c
	}
	return classes
})

// classify returns the class of fullName: from the precomputed table, or for a name the
// table lacks (none today) straight from upstream's metadata, without allocating.
func classify(fullName string) apiClass {
	if c, ok := knownAPIs()[fullName]; ok {
		return *c
	}
	return classifyByMetadata(fullName)
}

func classifyByMetadata(fullName string) apiClass {
	md := api.GetMethodMetadata(fullName)
	c := apiClass{
		full:   fullName,
		short:  api.MethodName(fullName),
		scope:  md.Scope,
		access: md.Access,
	}
	if api.ServiceName(fullName) == api.WorkflowServicePrefix {
		c.worker = contains(workerAPIs, c.short)
		c.uiRead = contains(uiReadAPIs, c.short)
		// RegisterNamespace is namespace-scoped in upstream's metadata, so a namespace
		// admin could create the namespace named in the request. We require
		// temporal-system:admin instead: a token may carry a grant for a namespace that
		// does not exist yet, and a pattern grant ("team-a-*:admin") would let its holder
		// create any number of namespaces. Creating one picks retention, archival and
		// replication and consumes cluster resources: a cluster operator's decision.
		c.systemAdminOnly = c.short == "RegisterNamespace"
	}
	return c
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// requiredRoles is the set of role bits, any one of which allows an access level:
// admin includes write, which includes read.
func requiredRoles(access api.Access) authorization.Role {
	switch access {
	case api.AccessReadOnly:
		return RoleReader | RoleWriter | RoleAdmin
	case api.AccessWrite:
		return RoleWriter | RoleAdmin
	default: // AccessAdmin, and AccessUnknown fails closed to admin as upstream does
		return RoleAdmin
	}
}
