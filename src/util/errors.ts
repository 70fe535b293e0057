/**
 * Errors the CLI knows how to report, each with the exit status of the contract:
 * 2 bad usage or bad input that stopped everything, 3 the cluster could not be reached.
 * (1, "some rules or documents failed", is set by commands that finish their work.)
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Input that could not be read or parsed; `where` names the file and the place in it. */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    public where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/** The cluster could not be reached or is not usable; the message names the URL and the cause. */
export class ClusterError extends Error {
  override name = "ClusterError";
}

/** The HTTP status of a cluster's error answer (the client's ResponseError, rest.ts' EsRequestError). */
function httpStatus(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; status?: unknown; meta?: { statusCode?: unknown } } | undefined;
  const s =
    e?.statusCode ??
    e?.meta?.statusCode ??
    (err instanceof Error && err.name === "EsRequestError" ? e?.status : undefined);
  return typeof s === "number" ? s : undefined;
}

/**
 * A server error (5xx) stopping a command is the cluster failing, not bad input: 3, like an
 * unreachable cluster. (Commands whose work partly ran report 1 themselves.)
 */
/** A rule whose nesting exhausted the call stack while it was compiled (e.g. a 10,000-deep condition). */
export function isTooDeep(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

export const TOO_DEEP =
  "the condition is nested too deeply to compile (the call stack ran out); flatten it (fewer nested levels)";

export function exitCodeFor(err: unknown): number {
  if (err instanceof ClusterError) return 3;
  const status = httpStatus(err);
  if (status !== undefined && status >= 500) return 3;
  return 2;
}

export function formatError(err: unknown): string {
  if (err instanceof UsageError || err instanceof InputError || err instanceof ClusterError) {
    return `outliers: ${err.message}`;
  }
  if (err instanceof Error) return `outliers: ${err.message}`;
  return `outliers: ${String(err)}`;
}
