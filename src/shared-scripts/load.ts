/**
 * Reads a `.painless` file (here and in src/emit/painless/) into the source Elasticsearch compiles.
 *
 * The files are real Painless with two conventions:
 * - Named constants: a token `GROUP_NAME` whose GROUP is one of the tables passed (e.g. `OP_EQ` with
 *   `{ OP: { EQ: 10, … } }`) is replaced by the table's value (a number, or a params key). Painless has
 *   no script-level constants, and a local per function would be one more copy to keep in step: the
 *   TypeScript table that writes the params is the only place a code is defined. A token of a known
 *   group that its table lacks is an error naming the file and line.
 * - Lines whose first non-blank characters are `///` are notes for readers of the file; they are
 *   removed, so only code (and its short `//` and `/* *\/` comments) reaches the cluster.
 */
export type ConstantTables = Record<string, Record<string, number | string>>;

export class PainlessSourceError extends Error {
  override name = "PainlessSourceError";
}

export function loadPainless(file: string, text: string, tables: ConstantTables = {}): string {
  const body = text.replace(/^[ \t]*\/\/\/.*(?:\r?\n|$)/gm, "");
  const groups = Object.keys(tables);
  if (groups.length === 0) return body;
  const token = new RegExp(`\\b(${groups.join("|")})_([A-Z0-9_]+)\\b`, "g");
  return body.replace(token, (whole, group: string, name: string, at: number) => {
    const table = tables[group]!;
    if (!Object.hasOwn(table, name)) {
      const line = body.slice(0, at).split("\n").length;
      throw new PainlessSourceError(
        `${file}:${line}: ${whole} is not in the ${group} table (${Object.keys(table).join(", ")})`,
      );
    }
    return String(table[name]);
  });
}

/** The constant tokens a source uses, as `GROUP_NAME` (for the drift test). */
export function constantTokens(text: string, groups: string[]): Set<string> {
  const token = new RegExp(`\\b(?:${groups.join("|")})_[A-Z0-9_]+\\b`, "g");
  return new Set(text.replace(/^[ \t]*\/\/\/.*$/gm, "").match(token) ?? []);
}
