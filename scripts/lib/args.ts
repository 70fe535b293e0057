/** Command-line helpers the scripts/*.ts share. */

/** The value after `--name`, or `def` when the flag is absent or followed by another flag. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith("--") ? process.argv[i + 1]! : def;
}

/** Whether `--name` is given. */
export const flag = (name: string): boolean => process.argv.includes(`--${name}`);
