/** A plain-text table for terminal output: columns padded to their widest cell, numbers right-aligned. */
export function textTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === "number" ? c.toLocaleString("en-US") : c)))];
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const width = header.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(width[i]!) : i === r.length - 1 ? c : c.padEnd(width[i]!)))
      .join("  ")
      .trimEnd();
  return [line(cells[0]!), line(width.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}
