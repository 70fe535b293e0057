/**
 * Raw Windows events as evtx JSON (`{"Event": {"System": {...}, "EventData": {...}}}`, the shape of
 * evtx_dump and of ../shared/sigma/regression) into winlogbeat-shaped documents, exactly per the
 * contract's table:
 *
 *   Event.System.TimeCreated.#attributes.SystemTime  -> @timestamp
 *   Event.System.EventID                             -> winlog.event_id (and event.code as a string)
 *   Event.System.Channel                             -> winlog.channel
 *   Event.System.Provider.#attributes.Name           -> winlog.provider_name
 *   Event.System.Computer                            -> winlog.computer_name
 *   Event.System.EventRecordID                       -> winlog.record_id
 *   Event.EventData.<Name>                           -> winlog.event_data.<Name>
 *
 * Values keep their JSON types (a number stays a number): the rules' semantics already treat 1 and
 * "1" alike, and changing types here would hide differences the pipeline must handle.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
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

/**
 * `EventData` into name → value. Evtx dumps hold it in several shapes:
 * - `{Name: value, ...}` (evtx_dump with named data, the regression files);
 * - `{"Data": [{"#attributes": {"Name": "X"}, "#text": v}, ...]}` or a single such object;
 * - `{"Data": ["a", "b"]}` (unnamed data: winlogbeat names these `param1`, `param2`, …);
 * - null or absent (no event data at all), and `#attributes` on EventData itself (ignored).
 */
export function eventDataOf(raw: Json | undefined): Obj | undefined {
  if (!isObj(raw)) return undefined;
  const out: Obj = {};
  let unnamed = 0;
  const addData = (d: Json) => {
    if (isObj(d) && isObj(d["#attributes"]) && typeof d["#attributes"].Name === "string") {
      const value = textOf(d);
      out[d["#attributes"].Name] = value === undefined ? null : value;
    } else {
      unnamed++;
      const value = isObj(d) ? textOf(d) : d;
      out[`param${unnamed}`] = value === undefined ? null : value;
    }
  };
  for (const [k, v] of Object.entries(raw)) {
    if (k === "#attributes") continue;
    if (k === "Data") {
      if (Array.isArray(v)) for (const d of v) addData(d);
      else if (v !== null) addData(v);
      continue;
    }
    if (k === "#text") {
      // Text directly inside <EventData> with no <Data> elements: keep it like unnamed data.
      if (v !== null) addData(v);
      continue;
    }
    out[k] = isObj(v) && ("#text" in v || "#attributes" in v) ? (textOf(v) ?? null) : v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** One raw evtx event into a winlogbeat-shaped document. Throws a plain Error naming what is missing. */
export function evtxToWinlogbeat(raw: unknown): Obj {
  if (!isEvtxEvent(raw)) throw new Error("not an evtx event (no Event.System object)");
  const event = (raw as Obj).Event as Obj;
  const sys = event.System as Obj;
  const doc: Obj = {};
  const time = isObj(sys.TimeCreated) && isObj(sys.TimeCreated["#attributes"]) ? sys.TimeCreated["#attributes"].SystemTime : undefined;
  if (time !== undefined && time !== null) doc["@timestamp"] = time;
  const winlog: Obj = {};
  const eventId = textOf(sys.EventID);
  if (eventId !== undefined && eventId !== null) {
    winlog.event_id = eventId;
    doc.event = { code: String(eventId) };
  }
  if (sys.Channel !== undefined && sys.Channel !== null) winlog.channel = textOf(sys.Channel) ?? null;
  const provider = isObj(sys.Provider) && isObj(sys.Provider["#attributes"]) ? sys.Provider["#attributes"].Name : undefined;
  if (provider !== undefined && provider !== null) winlog.provider_name = provider;
  if (sys.Computer !== undefined && sys.Computer !== null) winlog.computer_name = textOf(sys.Computer) ?? null;
  const record = textOf(sys.EventRecordID);
  if (record !== undefined && record !== null) winlog.record_id = record;
  const data = eventDataOf(event.EventData);
  if (data) winlog.event_data = data;
  doc.winlog = winlog;
  return doc;
}
