/** Option values shared by several commands, parsed with one message per kind of mistake. */
import { UsageError } from "../util/errors.ts";

/** A count such as `--batch 500` or `--top 20`: a whole number of at least 1. */
export function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${v}: expected a positive whole number`);
  return n;
}
