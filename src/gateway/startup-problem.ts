/** A start-up failure the operator fixes by reading one line (no stack trace): a missing tool, a taken resource. */
export class StartupProblem extends Error {
  override name = 'StartupProblem';
}
