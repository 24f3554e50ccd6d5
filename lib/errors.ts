// Errors the sink raises for conditions a user or operator must fix. Each says what happened and what
// to do; none carries a secret or a record value.

/** The configuration is invalid; `problems` lists each one as `path: what is wrong and the fix`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`Invalid sink configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}
