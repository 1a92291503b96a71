package integration

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"
)

const taskQueue = "integration"

// GreetWorkflow waits for a "name" signal, greets through an activity and returns the
// greeting: a start, a signal, workflow tasks and an activity task.
func GreetWorkflow(ctx workflow.Context) (string, error) {
	var name string
	workflow.GetSignalChannel(ctx, "name").Receive(ctx, &name)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var greeting string
	err := workflow.ExecuteActivity(ctx, Greet, name).Get(ctx, &greeting)
	return greeting, err
}

func Greet(_ context.Context, name string) (string, error) { return "hello, " + name, nil }

// TickWorkflow is what the schedule starts: it completes at once.
func TickWorkflow(workflow.Context) (string, error) { return "tick", nil }
