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
  /** The line in the file (of the place, or of its document or section). */
  line?: number;
  /** In a Sigma document: the YAML path, e.g. ["detection", "selection", "Image|endswith"]. */
  yamlPath?: (string | number)[];
  /** In an ee-outliers file: the use case's section, e.g. `simplequery_encoded_powershell`. */
  section?: string;
  /** In an ee-outliers use case: the key, e.g. `es_dsl_filter`. */
  key?: string;
  /** In an ee-outliers use case: the place in its query, e.g. `bool.must[1].term`. */
  place?: string;
}

/**
 * The place inside the file, as messages print it: `detection.selection.Image|endswith` (Sigma),
 * `[section]: key: bool.must[1].term` (ee-outliers); "" when only the file is known.
 */
export function placeText(loc: RuleLocation): string {
  const parts: string[] = [];
  if (loc.yamlPath?.length) parts.push(loc.yamlPath.join("."));
  if (loc.section !== undefined) parts.push(`[${loc.section}]`);
  if (loc.key !== undefined) parts.push(loc.key);
  if (loc.place) parts.push(loc.place);
  return parts.join(": ");
}

/** `file:line: place`, leaving out what the location does not know. */
export function locationText(loc: RuleLocation): string {
  const file = loc.path === undefined ? "" : `${loc.path}${loc.line !== undefined ? `:${loc.line}` : ""}`;
  const place = placeText(loc);
  return file && place ? `${file}: ${place}` : file || place;
}

/** `file:line: place: message`: how every rule error is printed (compile, the report, every command). */
export function locatedMessage(loc: RuleLocation, message: string): string {
  const where = locationText(loc);
  return where ? `${where}: ${message}` : message;
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

/** A `RuleError` (status `error`) or `RuleUnsupported` (status `unsupported`). */
export function ruleProblem(status: "error" | "unsupported", message: string, location?: RuleLocation): RuleError {
  return status === "unsupported" ? new RuleUnsupported(message, location) : new RuleError(message, location);
}

/** The same kind of error as `e`, with another message and location (e.g. once located). */
export function relocated(e: RuleError, message: string, location: RuleLocation): RuleError {
  return ruleProblem(e.status, message, location);
}
