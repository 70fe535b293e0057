/**
 * Raw Windows events as evtx JSON (`{"Event": {"System": {...}, "EventData": {...}}}`, the shape of
 * evtx_dump and of ../shared/sigma/regression) into the documents Winlogbeat sends for the same
 * events. System fields per the contract's table:
 *
 *   Event.System.TimeCreated.#attributes.SystemTime  -> @timestamp
 *   Event.System.EventID                             -> winlog.event_id (and event.code as a string)
 *   Event.System.Channel                             -> winlog.channel
 *   Event.System.Provider.#attributes.Name           -> winlog.provider_name
 *   Event.System.Computer                            -> winlog.computer_name
 *   Event.System.EventRecordID                       -> winlog.record_id
 *   Event.EventData.<Name>                           -> winlog.event_data.<Name>
 *   Event.UserData.<Element>.<Name>                  -> winlog.user_data.<Name> (+ xml_name: <Element>)
 *
 * Event and user data follow Winlogbeat's rules for the key/value pairs it reads from the XML:
 * - every value is a STRING, the text Windows wrote (a number of the JSON export becomes its own
 *   digits, `true` becomes "true"): an index without our template then maps every field as text,
 *   whatever event comes first, and `"0x378"` never meets a `long` mapping made by `8752`;
 * - names are kept as Windows writes them (Defender's `Threat Name`, with its space);
 * - a pair without a name (`<Data>` with no `Name`) is named `param<N>`, N its 1-based position
 *   among all the pairs of the section;
 * - an empty value is left out; when a name repeats, the first value wins;
 * - CRLF becomes LF and trailing newlines are cut;
 * - `UserData` holds one element (e.g. `Operation_ClientFailure` of WMI-Activity 5858): its child
 *   elements are the pairs, and its own name goes to `winlog.user_data.xml_name`.
 * Only the direct text of an element is its value (nested elements inside a value are not read, as
 * Winlogbeat does not read them either).
 */
import { LosslessNumber } from "./json-numbers.ts";

export type Json = null | boolean | number | string | LosslessNumber | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof LosslessNumber);
}

/** True when a parsed JSON value looks like a raw evtx event (`Event.System` present). */
export function isEvtxEvent(v: unknown): boolean {
  return isObj(v) && isObj(v.Event) && isObj(v.Event.System);
}

/**
 * The text of an XML-ish node as evtx_dump writes it: a scalar as is, or `{"#text": v, "#attributes": …}`
 * (e.g. `EventID` with a `Qualifiers` attribute). Undefined when there is no text.
 */
function textOf(v: Json | undefined): Json | undefined {
  if (v === undefined) return undefined;
  if (isObj(v)) return "#text" in v ? v["#text"] : undefined;
  return v;
}

/** A scalar of the JSON export as the text Windows wrote; undefined for no text (null, objects). */
function asText(v: Json | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof LosslessNumber) return v.text;
  return undefined;
}

/** Winlogbeat's cleanup of every value: CRLF to LF, trailing newlines cut. */
function withoutWindowsLineEndings(s: string): string {
  // Most values hold no line break at all: skip the two scans then (the same result).
  if (s.includes("\r")) s = s.replaceAll("\r\n", "\n");
  return s.charCodeAt(s.length - 1) === 10 ? s.replace(/\n+$/, "") : s;
}

/**
 * Winlogbeat's AddPairs, pair by pair as the export is walked: positional names for unnamed pairs
 * (`param<N>`, N counting every pair, empty ones too), empty values dropped, first name wins.
 */
class Pairs {
  readonly out: Record<string, string> = {};
  any = false;
  private n = 0;

  add(key: string, value: string | undefined): void {
    const i = this.n++;
    if (value === undefined || value === "") return;
    const k = key === "" || key === "Data" ? `param${i + 1}` : key;
    if (Object.hasOwn(this.out, k)) return;
    this.out[k] = withoutWindowsLineEndings(value);
    this.any = true;
  }

  result(): Record<string, string> | undefined {
    return this.any ? this.out : undefined;
  }
}

/** The pairs one element of the export stands for: `key` with its text, or one per value of a list. */
function pairsOf(key: string, v: Json, out: Pairs): void {
  if (Array.isArray(v)) {
    for (const item of v) pairsOf(key, item, out);
    return;
  }
  if (isObj(v)) {
    const attrs = v["#attributes"];
    const name = isObj(attrs) && typeof attrs.Name === "string" ? attrs.Name : key;
    const text = v["#text"];
    // evtx_dump folds repeated unnamed <Data> into one {"#text": [a, b, …]}.
    if (Array.isArray(text)) for (const t of text) out.add(name, asText(t));
    else out.add(name, asText(text));
    return;
  }
  out.add(key, asText(v));
}

/** The children of a section as pairs (attributes and the section's own text are not data). */
function sectionPairs(section: Obj): Pairs {
  const pairs = new Pairs();
  const keys = Object.keys(section);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k.charCodeAt(0) !== 35) pairsOf(k, section[k]!, pairs); // "#": attributes, text
  }
  return pairs;
}

/**
 * `EventData` into name → string. Evtx dumps hold it in several shapes:
 * - `{Name: value, ...}` (evtx_dump with named data, the regression files);
 * - `{"Data": [{"#attributes": {"Name": "X"}, "#text": v}, ...]}` or a single such object;
 * - `{"Data": ["a", "b"]}` or `{"Data": {"#text": ["a", "b"]}}` (unnamed data: `param1`, `param2`, …);
 * - null or absent (no event data at all), and `#attributes` on EventData itself (ignored).
 */
export function eventDataOf(raw: Json | undefined): Record<string, string> | undefined {
  if (!isObj(raw)) return undefined;
  return sectionPairs(raw).result();
}

/** `UserData` into name → string plus `xml_name`, the name of the one element it holds. */
export function userDataOf(raw: Json | undefined): Record<string, string> | undefined {
  if (!isObj(raw)) return undefined;
  const name = Object.keys(raw).find((k) => !k.startsWith("#"));
  if (name === undefined) return undefined;
  const element = raw[name]!;
  const data = isObj(element) ? sectionPairs(element).result() : undefined;
  if (!data) return undefined;
  data.xml_name = name; // set after the pairs, as Winlogbeat does (a pair of that name is replaced)
  return data;
}

/** A System value: numbers stay numbers (the contract's `winlog.event_id`), exact big ones their text. */
function systemValue(v: Json | undefined): Json | undefined {
  const t = textOf(v);
  return t instanceof LosslessNumber ? t.text : t;
}

/** One raw evtx event into a winlogbeat-shaped document. Throws a plain Error naming what is missing. */
export function evtxToWinlogbeat(raw: unknown): Obj {
  if (!isEvtxEvent(raw)) throw new Error("not an evtx event (no Event.System object)");
  const event = (raw as Obj).Event as Obj;
  const sys = event.System as Obj;
  const doc: Obj = {};
  const time =
    isObj(sys.TimeCreated) && isObj(sys.TimeCreated["#attributes"])
      ? sys.TimeCreated["#attributes"].SystemTime
      : undefined;
  if (time !== undefined && time !== null) doc["@timestamp"] = systemValue(time) ?? null;
  const winlog: Obj = {};
  const eventId = systemValue(sys.EventID);
  if (eventId !== undefined && eventId !== null) {
    winlog.event_id = eventId;
    doc.event = { code: String(eventId) };
  }
  if (sys.Channel !== undefined && sys.Channel !== null) winlog.channel = systemValue(sys.Channel) ?? null;
  const provider =
    isObj(sys.Provider) && isObj(sys.Provider["#attributes"]) ? sys.Provider["#attributes"].Name : undefined;
  if (provider !== undefined && provider !== null) winlog.provider_name = systemValue(provider) ?? null;
  if (sys.Computer !== undefined && sys.Computer !== null) winlog.computer_name = systemValue(sys.Computer) ?? null;
  const record = systemValue(sys.EventRecordID);
  if (record !== undefined && record !== null) winlog.record_id = record;
  const data = eventDataOf(event.EventData);
  if (data) winlog.event_data = data;
  const user = userDataOf(event.UserData);
  if (user) winlog.user_data = user;
  doc.winlog = winlog;
  return doc;
}
