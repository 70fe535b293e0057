/**
 * The one prefix of every warning the CLI prints on stderr (`outliers: warning: …`), with the place
 * (`file:line:`, `rule ID`) after it, so that `grep 'outliers: warning:'` finds them all.
 */
export const WARNING_PREFIX = "outliers: warning: ";

/** A warning line (without the newline). */
export function warning(text: string): string {
  return `${WARNING_PREFIX}${text}`;
}

/** Prints a warning on stderr. */
export function warn(text: string): void {
  process.stderr.write(`${warning(text)}\n`);
}
