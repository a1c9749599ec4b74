/**
 * A problem with the training data itself (not the config): missing columns, bad target values,
 * cells a column's policy refuses. Every problem found in one pass is collected into `issues`, so a
 * user fixes the file once instead of rerunning per error.
 */
export class DataError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [message],
  ) {
    super(message);
    this.name = "DataError";
  }

  static fromIssues(source: string, issues: string[]): DataError {
    const lines = issues.map((issue) => `  - ${issue}`).join("\n");
    return new DataError(`${source} has ${issues.length} data problem(s):\n${lines}`, issues);
  }
}
