/**
 * JSON numbers that a JavaScript number cannot hold exactly: integers beyond ±2^53
 * (18446744073709551615 would become 18446744073709552000), values out of a double's range (1e400
 * would become Infinity, then `null` in JSON.stringify; 1e-400 would become 0), and decimals with
 * more digits than a double keeps. `parseJson` keeps each such number as a `LosslessNumber` holding
 * its exact text; it is sent to Elasticsearch as a string with that text (its `toJSON`), and
 * `losslessPaths` names where they are so that `ingest` can warn with the line and the field.
 * Every other number is parsed as usual.
 */

export class LosslessNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Cheap test on the raw text: could any number token in it be inexact? (False positives only cost time.) */
const MAYBE_INEXACT = /[0-9][0-9.]{15}|[0-9.][eE][+-]?[0-9]{3}/;

/** `[negative, significant digits, exponent of the last digit]` of a decimal number text, normalised. */
function decimal(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const whole = m[2] ?? "";
  const frac = m[3] ?? "";
  let digits = (whole + frac).replace(/^0+/, "");
  let exp = Number(m[4] ?? 0) - frac.length;
  if (digits === "") return "0";
  const trimmed = digits.replace(/0+$/, "");
  exp += digits.length - trimmed.length;
  digits = trimmed;
  return `${m[1]}${digits}e${exp}`;
}

/** True when `value` (what JSON.parse made of `source`) is exactly the number `source` writes. */
export function isExact(source: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (Number.isInteger(value) && Number.isSafeInteger(value) && /^-?\d+$/.test(source)) return true;
  // String() gives the shortest text that reads back as the same double: equal decimals, same number.
  return decimal(source) === decimal(String(value).replace("e+", "e"));
}

/** JSON.parse, keeping inexact numbers as LosslessNumber. */
export function parseJson(text: string): unknown {
  if (!MAYBE_INEXACT.test(text)) return JSON.parse(text);
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === "number" && context?.source !== undefined && !isExact(context.source, value))
      return new LosslessNumber(context.source);
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}

/** Dotted paths (array positions as `[n]`) of every LosslessNumber in a value, with its text. */
export function losslessPaths(
  value: unknown,
  prefix = "",
  out: { path: string; text: string }[] = [],
): { path: string; text: string }[] {
  if (value instanceof LosslessNumber) out.push({ path: prefix, text: value.text });
  else if (Array.isArray(value)) value.forEach((v, i) => losslessPaths(v, `${prefix}[${i}]`, out));
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) losslessPaths(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/**
 * A parsed value as ingest sends it: each LosslessNumber replaced (in place) by its exact text, the
 * string its `toJSON` writes into the bulk body. Local runs (`scan`, `test`) read events through this
 * so that a big integer is the same string there as in the indexed document.
 */
export function asSent<T>(value: T): T {
  if (value instanceof LosslessNumber) return value.text as T;
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = asSent(value[i]);
  else if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = asSent(o[k]);
  }
  return value;
}
