/**
 * The values of a dotted field in an event, as every matcher reads them (src/ir/types.ts: dotted
 * names address nested objects and literal dotted keys alike; lists are walked; objects and nulls
 * are not values). The Painless twin is `oxWalk` in src/emit/painless/tagger.painless.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The scalar values of `v`: itself, or the elements of a list (nested lists too); null and objects left out. */
function leaves(v: unknown, out: unknown[]): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const e of v) leaves(e, out);
    return;
  }
  if (isObj(v)) return;
  out.push(v);
}

/** The values at a dotted path, through nested objects and literal dotted keys alike (appended to `out`). */
export function valuesAt(node: unknown, path: string, start = 0, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) {
    for (const e of node) valuesAt(e, path, start, out);
    return out;
  }
  if (!isObj(node)) return out;
  let i = path.indexOf(".", start);
  while (i >= 0) {
    const c = node[path.slice(start, i)];
    if (c !== null && c !== undefined) valuesAt(c, path, i + 1, out);
    i = path.indexOf(".", i + 1);
  }
  leaves(node[path.slice(start)], out);
  return out;
}
