/**
 * The `winlogbeat` profile (the default), as sigmac's tools/config/winlogbeat.yml mapped Sigma onto
 * Winlogbeat 7+ documents (and as src/events/evtx-json.ts builds them from raw evtx JSON):
 *
 *   Sigma field X              -> winlog.event_data.X   (keyword)
 *   EventID                    -> winlog.event_id       (long, see below)
 *   Channel                    -> winlog.channel
 *   Provider_Name              -> winlog.provider_name
 *   Computer, ComputerName     -> winlog.computer_name
 *   EventRecordID              -> winlog.record_id      (long)
 *   Level                      -> log.level             (Winlogbeat writes the level name, e.g. "error")
 *   Keywords                   -> winlog.keywords       (Winlogbeat writes names, e.g. "Audit Failure")
 *   Message                    -> message               (text, with message.keyword)
 *   Data                       -> winlog.event_data.param1 .. param24 (unnamed <Data> values)
 *   dst_ip/src_ip/dst_port/src_port -> DestinationIp/SourceIp/DestinationPort/SourcePort
 *   a name with a dot          -> itself (already an index field)
 *
 * Logsources: windows-sources.ts (services to channels, categories to channel + event ids, with
 * Security 4688 renames for process_creation); index `winlogbeat-*`. Other products: index
 * `logs-*`, field names unchanged, no guard.
 *
 * Types. `winlog.event_id` is `long` here although Winlogbeat's own template makes it keyword:
 * event ids are numbers, Sigma writes them as numbers, and a numeric comparison (`gt`/`lt`) on a
 * keyword field would compare strings ("10" < "9"). The corpus has no `gt`/`gte`/`lt`/`lte` at
 * all, and event data values are strings in Winlogbeat, so every winlog.event_data field stays
 * keyword except the address fields (`ip`, so `cidr` works). A term query for 4688 matches a long
 * and a keyword field alike, so the emitted queries also work on a stock Winlogbeat index.
 */
import type { Field, FieldType } from "../ir/types.ts";
import type { Logsource } from "./profile.ts";
import { buildTemplate, typedField } from "./template.ts";
import { makeWindowsProfile, paramFields } from "./windows-profile.ts";
import { own } from "./lookup.ts";

export const EVENT_DATA = "winlog.event_data.";
/** Where Winlogbeat puts the pairs of an event's `<UserData>` element (see src/events/evtx-json.ts). */
export const USER_DATA = "winlog.user_data.";

/** Sigma names of Windows System fields (not under EventData). */
export const WINLOGBEAT_SYSTEM_FIELDS: Readonly<Record<string, string>> = {
  EventID: "winlog.event_id",
  Channel: "winlog.channel",
  Provider_Name: "winlog.provider_name",
  Computer: "winlog.computer_name",
  ComputerName: "winlog.computer_name",
  EventRecordID: "winlog.record_id",
  Level: "log.level",
  Keywords: "winlog.keywords",
  Message: "message",
};

/** Short names some rules use for Sysmon's network fields (sigmac's winlogbeat.yml had them). */
export const SIGMA_ALIASES: Readonly<Record<string, string>> = {
  dst_ip: "DestinationIp",
  src_ip: "SourceIp",
  dst_port: "DestinationPort",
  src_port: "SourcePort",
};

/** EventData fields holding IP addresses (typed `ip` so `cidr` works; see template.ts). */
export const WINDOWS_IP_FIELDS = [
  "DestinationIp",
  "SourceIp",
  "IpAddress",
  "ClientAddress",
  "ServerAddress",
  "SourceAddress",
  "DestAddress",
];

/**
 * Address fields of non-Windows rules, searched by their own names in `logs-*` (proxy, zeek,
 * firewall and Linux rules use these with `cidr`).
 */
export const OTHER_IP_FIELDS = [
  "dst_ip",
  "src_ip",
  "DestinationIp",
  "SourceIp",
  "id.orig_h",
  "id.resp_h",
  "c-ip",
  "ClientIP",
  "sourceIPAddress",
];

const TYPED: Record<string, FieldType> = {
  "winlog.event_id": "long",
  "winlog.record_id": "long",
  "winlog.channel": "keyword",
  "winlog.provider_name": "keyword",
  "winlog.computer_name": "keyword",
  "winlog.keywords": "keyword",
  "log.level": "keyword",
  "event.code": "keyword",
  message: "text",
  ...Object.fromEntries(WINDOWS_IP_FIELDS.map((f) => [EVENT_DATA + f, "ip" as FieldType])),
  ...Object.fromEntries(OTHER_IP_FIELDS.map((f) => [f, "ip" as FieldType])),
};

export function winlogbeatFieldType(indexField: string): Field {
  return typedField(indexField, own(TYPED, indexField) ?? "keyword");
}

function windowsFieldNames(sigmaField: string, _ls: Logsource): string[] {
  const system = own(WINLOGBEAT_SYSTEM_FIELDS, sigmaField);
  if (system) return [system];
  if (sigmaField === "Data") return paramFields(EVENT_DATA);
  if (sigmaField.includes(".")) return [sigmaField];
  return [EVENT_DATA + (own(SIGMA_ALIASES, sigmaField) ?? sigmaField)];
}

export const winlogbeatProfile = makeWindowsProfile({
  name: "winlogbeat",
  timeField: "@timestamp",
  windowsIndex: ["winlogbeat-*"],
  otherIndex: ["logs-*"],
  channelField: "winlog.channel",
  eventIdField: "winlog.event_id",
  eventDataPrefix: EVENT_DATA,
  userDataPrefix: USER_DATA,
  windowsFieldNames,
  fieldType: winlogbeatFieldType,
  keywordExtra: ["message"],
  indexTemplate: () => buildTemplate(TYPED),
});
