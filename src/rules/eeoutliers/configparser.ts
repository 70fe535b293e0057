/**
 * Reads ee-outliers configuration files the way Python's `configparser` (which ee-outliers uses)
 * reads them, keeping the line of every section and key so errors can name them.
 *
 * Why not the `ini` package: it cuts values at `;` and `#` (inline comments), does not know
 * indented continuation lines or `key: value`, and nests sections on dots. Query DSL, Lucene
 * queries and whitelist regexps routinely contain those characters, and configparser (no inline
 * comments, continuation lines, `=` or `:` delimiters) reads them intact, so we follow it here.
 * Duplicates, which `ini` merges silently, are reported with file, section and line.
 */

export interface IniKey {
  /** Lower-cased key, as configparser's default `optionxform` gives it. */
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  keys: Map<string, IniKey>;
  /** Problems inside this section (duplicate keys, lines that are not `key = value`). */
  errors: string[];
}

export interface IniFile {
  path: string;
  sections: IniSection[];
  /** Problems outside any one section (duplicate sections, keys before the first section). */
  errors: string[];
}

const SECTION = /^\[(.+)\]\s*$/;

export function parseIni(path: string, text: string): IniFile {
  const file: IniFile = { path, sections: [], errors: [] };
  const seen = new Map<string, IniSection>();
  let defaults: IniSection | undefined;
  let current: IniSection | undefined;
  // The value being read, which indented lines continue.
  let open: { entry: IniKey; indent: number } | undefined;
  let pendingBlank = 0;

  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const stripped = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (stripped === "") {
      if (open) pendingBlank++;
      continue;
    }
    // Full-line comments only: configparser has no inline comments by default.
    if (stripped.startsWith("#") || stripped.startsWith(";")) continue;
    if (open && indent > open.indent) {
      open.entry.value += "\n".repeat(pendingBlank + 1) + stripped;
      pendingBlank = 0;
      continue;
    }
    open = undefined;
    pendingBlank = 0;
    const header = SECTION.exec(stripped);
    if (header && indent === 0) {
      const name = header[1]!;
      const before = seen.get(name);
      if (before) {
        file.errors.push(`${path}:${lineNo}: [${name}]: duplicate section (first defined on line ${before.line})`);
        // Keep reading into a throw-away section so its keys do not leak into the first one.
        current = { name, line: lineNo, keys: new Map(), errors: [] };
        continue;
      }
      current = { name, line: lineNo, keys: new Map(), errors: [] };
      seen.set(name, current);
      if (name === "DEFAULT") defaults = current;
      else file.sections.push(current);
      continue;
    }
    // `s`: a value may hold U+2028/U+2029, which configparser (splitting on \n and \r only) keeps.
    const m = /^([^=:]*?)\s*[=:]\s*(.*)$/s.exec(stripped);
    if (!current) {
      file.errors.push(`${path}:${lineNo}: ${m ? "key" : "line"} before the first [section]`);
      continue;
    }
    if (!m || m[1] === "") {
      current.errors.push(
        `${path}:${lineNo}: [${current.name}]: expected 'key = value', got ${JSON.stringify(stripped.slice(0, 60))}`,
      );
      continue;
    }
    const key = m[1]!.toLowerCase();
    const prev = current.keys.get(key);
    if (prev) {
      current.errors.push(`${path}:${lineNo}: [${current.name}]: duplicate key '${key}' (first on line ${prev.line})`);
      continue;
    }
    const entry: IniKey = { key, value: m[2]!, line: lineNo };
    current.keys.set(key, entry);
    open = { entry, indent };
  }
  // configparser's [DEFAULT] keys appear in every section that does not set them.
  if (defaults) {
    for (const s of file.sections) {
      for (const [k, v] of defaults.keys) if (!s.keys.has(k)) s.keys.set(k, v);
    }
    file.errors.push(...defaults.errors);
  }
  return file;
}
