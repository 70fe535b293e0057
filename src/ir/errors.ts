/**
 * The one vocabulary for what is wrong with a rule, modelled on pySigma's `sigma/exceptions.py`: a
 * base error carrying where the problem is, and one kind for "valid, but not something this tool
 * does" (pySigma's SigmaFeatureNotSupportedByBackendError). Every reader (src/rules/) and the
 * lowering pass (src/emit/match-plan/lower.ts) throw these; a rule's `CompileResult.status` is the
 * error's `status`, and other rules go on.
 *
 * Errors of the command line, input files and the cluster (exit codes) are in src/util/errors.ts.
 */

/** Where in a rule file a problem is, as far as known. */
export interface RuleLocation {
  /** The rule file. */
  path?: string;
  /** In a Sigma document: the YAML path, e.g. ["detection", "selection", "Image|endswith"]. */
  yamlPath?: (string | number)[];
  /** In an ee-outliers use case: the place in its query, e.g. `bool.must[1].term`. */
  place?: string;
}

/** The rule is wrong (a bad value, an unknown modifier, a broken condition): status `error`. */
export class RuleError extends Error {
  override name = "RuleError";
  readonly status: "error" | "unsupported" = "error";
  constructor(
    message: string,
    public location?: RuleLocation,
  ) {
    super(message);
  }
}

/** The rule is valid but asks for what this tool does not do (at all, or live): status `unsupported`. */
export class RuleUnsupported extends RuleError {
  override name = "RuleUnsupported";
  override readonly status = "unsupported" as const;
}

/** The same kind of error as `e`, with another message and location (e.g. once located). */
export function relocated(e: RuleError, message: string, location: RuleLocation): RuleError {
  return e instanceof RuleUnsupported ? new RuleUnsupported(message, location) : new RuleError(message, location);
}
