package authz

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/server/common/api"
)

func TestAPIClassTables(t *testing.T) {
	known := knownAPIs()
	// Our lists name real WorkflowService methods with the scope they need.
	for _, m := range workerAPIs {
		c, ok := known[wfPrefix+m]
		if !ok {
			t.Errorf("workerAPIs: %s is not a WorkflowService method", m)
			continue
		}
		if m != "GetSystemInfo" && c.scope != api.ScopeNamespace {
			t.Errorf("workerAPIs: %s is not namespace-scoped, the worker role could never allow it", m)
		}
		if !c.worker {
			t.Errorf("%s not classified as a worker call", m)
		}
	}
	for _, m := range uiReadAPIs {
		c, ok := known[wfPrefix+m]
		if !ok || c.scope != api.ScopeCluster || c.access != api.AccessReadOnly || !c.uiRead {
			t.Errorf("uiReadAPIs: %s = %+v, want a cluster-scope read", m, c)
		}
	}
	for _, name := range nexusAPIs {
		if c := known[name]; c == nil || c.scope != api.ScopeNamespace {
			t.Errorf("nexus API %s not classified as namespace-scoped: %+v", name, c)
		}
	}
	if c := known[wfPrefix+"RegisterNamespace"]; c == nil || !c.systemAdminOnly {
		t.Errorf("RegisterNamespace not system-admin-only: %+v", c)
	}
	// Every method the frontend serves is one upstream classifies; otherwise it would be
	// denied to everyone, including the system worker.
	var unclassified []string
	for name, c := range known {
		if c.scope == api.ScopeUnknown && !strings.HasPrefix(name, adminPrefix) {
			unclassified = append(unclassified, name)
		}
	}
	if len(unclassified) > 0 {
		t.Errorf("methods without upstream metadata (denied to all): %v", unclassified)
	}
	// Only WorkflowService methods carry our own classes.
	for name, c := range known {
		if (c.worker || c.uiRead || c.systemAdminOnly) && !strings.HasPrefix(name, wfPrefix) {
			t.Errorf("%s outside WorkflowService has a worker/ui/system-admin class", name)
		}
	}
	if c := classify("/temporal.api.foo.v1.FooService/Bar"); c.scope != api.ScopeUnknown || c.short != "Bar" {
		t.Errorf("unknown API classified as %+v", c)
	}
}

// The worker role must cover what the Go SDK worker calls. This reads the SDK source this
// module builds with and finds the WorkflowService calls made by its worker-only files
// (pollers, task handlers, worker lifecycle, Nexus). The remaining worker calls live in the
// client file, shared with client code, and are listed by hand.
func TestAPIClassWorkerCoversGoSDKWorker(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Fatalf("locating the Go SDK source: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "internal")
	workerFiles := []string{"internal_task_pollers.go", "internal_task_handlers.go", "internal_worker.go",
		"internal_nexus_task_poller.go", "internal_nexus_task_handler.go"}
	call := regexp.MustCompile(`(?:[sS]ervice|WorkflowService\(\))\.([A-Z]\w+)\(`)
	known := knownAPIs()
	found := map[string]bool{}
	for _, f := range workerFiles {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("reading Go SDK worker source: %v", err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			if known[wfPrefix+m[1]] != nil {
				found[m[1]] = true
			}
		}
	}
	if len(found) < 10 {
		t.Fatalf("found only %v in the SDK worker source: the scan is broken", found)
	}
	for m := range found {
		if !slices.Contains(workerAPIs, m) {
			t.Errorf("the Go SDK worker calls %s, which the worker role does not allow", m)
		}
	}
	// Called by workers through the shared client (internal_workflow_client.go), or by
	// sdk-core based SDKs (Python): see the table in apiclass.go.
	throughClient := []string{"GetSystemInfo", "DescribeNamespace", "RecordWorkerHeartbeat", "ResetStickyTaskQueue"}
	for _, m := range workerAPIs {
		if !found[m] && !slices.Contains(throughClient, m) {
			t.Errorf("worker role allows %s, which no SDK worker calls", m)
		}
	}
}
