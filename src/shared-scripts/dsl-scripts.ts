/**
 * The fixed Painless sources of the query DSL's script queries: a format contract with two sides.
 * src/emit/dsl.ts and src/emit/dsl-regex.ts write them (values arrive in `params`, never in the
 * source); the ee-outliers reader (src/rules/eeoutliers/dsl-to-ir.ts) recognises these exact sources
 * in a use case's query (files written by `compile --target ee-outliers`) and reads their meaning
 * back from params. What they match is stated in the header of src/emit/dsl.ts.
 */
import { loadPainless } from "./load.ts";
import queryText from "./regex-query.painless" with { type: "text" };
import { REGEX_PAINLESS } from "./regex-source.ts";

/** Painless helpers shared by the fixed scripts. ASCII folding matches `case_insensitive`. */
const PAINLESS_HELPERS = `
String fold(String s) { StringBuilder b = new StringBuilder(); for (int i = 0; i < s.length(); ++i) { char c = s.charAt(i); if (c >= (char)'A' && c <= (char)'Z') { b.append((char)(c + 32)); } else { b.append(c); } } return b.toString(); }
boolean glob(String s, String p, String m) { int si = 0; int pi = 0; int star = -1; int mark = 0; while (si < s.length()) { if (pi < p.length() && m.charAt(pi) == (char)'2') { si++; pi++; } else if (pi < p.length() && m.charAt(pi) == (char)'0' && p.charAt(pi) == s.charAt(si)) { si++; pi++; } else if (pi < p.length() && m.charAt(pi) == (char)'1') { star = pi; mark = si; pi++; } else if (star != -1) { pi = star + 1; mark++; si = mark; } else { return false; } } while (pi < p.length() && m.charAt(pi) == (char)'1') { pi++; } return pi == p.length(); }
`;

/**
 * String predicate over the text of a field's doc values (ip, numbers, dates): params.field,
 * params.op (eq|prefix|suffix|contains|glob), params.value (folded when !cased), params.mask (glob:
 * per char 0 literal, 1 `*`, 2 `?`), params.cased.
 */
export const DOC_STRING_SCRIPT = `${PAINLESS_HELPERS}
if (!doc.containsKey(params.field)) { return false; }
for (def raw : doc[params.field]) {
  if (raw == null) { continue; }
  String v = String.valueOf(raw);
  if (!params.cased) { v = fold(v); }
  String op = params.op;
  if (op == 'eq') { if (v.equals(params.value)) { return true; } }
  else if (op == 'prefix') { if (v.startsWith(params.value)) { return true; } }
  else if (op == 'suffix') { if (v.endsWith(params.value)) { return true; } }
  else if (op == 'contains') { if (v.indexOf(params.value) >= 0) { return true; } }
  else if (glob(v, params.value, params.mask)) { return true; }
}
return false;`;

/** Numeric comparison over keyword doc values: params.field, params.op (gt|gte|lt|lte), params.value. */
export const DOC_NUMBER_SCRIPT = `
if (!doc.containsKey(params.field)) { return false; }
double x = ((Number) params.value).doubleValue();
String op = params.op;
for (def raw : doc[params.field]) {
  if (raw == null) { continue; }
  double d = 0;
  boolean ok = true;
  try { d = Double.parseDouble(String.valueOf(raw).trim()); } catch (NumberFormatException e) { ok = false; }
  if (!ok || Double.isNaN(d)) { continue; }
  if (op == 'gt' && d > x) { return true; }
  if (op == 'gte' && d >= x) { return true; }
  if (op == 'lt' && d < x) { return true; }
  if (op == 'lte' && d <= x) { return true; }
}
return false;`;

/** Field reference: some value of params.a equals some value of params.b (params.cased). */
export const FIELDREF_SCRIPT = `${PAINLESS_HELPERS}
if (!doc.containsKey(params.a) || !doc.containsKey(params.b)) { return false; }
for (def x : doc[params.a]) {
  if (x == null) { continue; }
  String xs = params.cased ? String.valueOf(x) : fold(String.valueOf(x));
  for (def y : doc[params.b]) {
    if (y == null) { continue; }
    String ys = params.cased ? String.valueOf(y) : fold(String.valueOf(y));
    if (xs.equals(ys)) { return true; }
  }
}
return false;`;

/**
 * Regex over a keyword field's doc values: params.f (field), params.p (NFA program of
 * src/ir/regex/nfa.ts), params.re (the regex itself, unused by the script, read back by the reader).
 */
export const REGEX_QUERY_SCRIPT = REGEX_PAINLESS + loadPainless("regex-query.painless", queryText);
