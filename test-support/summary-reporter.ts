import type { RunnerTask, RunnerTestFile } from "vitest";
import type { Reporter } from "vitest/reporters";

/** Ends the run with one plain line, `N passed, N failed`, that any CI can read. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const visit = (task: RunnerTask) => {
      if (task.type === "test") {
        const state = task.result?.state;
        if (state === "pass") passed += 1;
        else if (state === "fail") failed += 1;
        else skipped += 1;
      } else if ("tasks" in task) {
        for (const child of task.tasks) visit(child);
      }
    };
    for (const file of files) {
      if (file.result?.state === "fail" && file.tasks.length === 0) failed += 1;
      for (const task of file.tasks) visit(task);
    }
    failed += errors.length;
    process.stdout.write(
      `\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`,
    );
  }
}
