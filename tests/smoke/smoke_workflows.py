"""The workflow the smoke checks start, signal, run on a real worker and schedule."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="SmokeGreeting")
class SmokeGreeting:
    """Returns a greeting at once, or, started with wait=True, after a "finish" signal."""

    def __init__(self) -> None:
        self.finished = False

    @workflow.run
    async def run(self, name: str, wait: bool = False) -> str:
        if wait:
            await workflow.wait_condition(lambda: self.finished)
        return f"hello {name}"

    @workflow.signal
    def finish(self) -> None:
        self.finished = True
