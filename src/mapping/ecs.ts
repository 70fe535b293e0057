/**
 * The `ecs` profile: Elastic Common Schema names, as pySigma's `ecs_windows` pipeline
 * (pySigma-backend-elasticsearch) maps Windows events shipped by Winlogbeat 7+ with its Sysmon,
 * Security and PowerShell modules:
 *
 *   EventID -> event.code (keyword, "4688"); Channel -> winlog.channel; Image -> process.executable;
 *   CommandLine -> process.command_line; TargetObject -> registry.path; QueryName ->
 *   dns.question.name; DestinationIp -> destination.ip; ScriptBlockText ->
 *   powershell.file.script_block_text; … (ECS_FIELDS below), some depending on the logsource
 *   (ECS_BY_LOGSOURCE: OriginalFileName is process.pe.original_file_name for process_creation and
 *   file.pe.original_file_name for image_load); every other field winlog.event_data.<name>.
 *
 * Logsource guards are the same channel/event-id tables as `winlogbeat` (windows-sources.ts), on
 * winlog.channel and event.code; index `winlogbeat-*`, and `logs-*` for other products, whose
 * field names are used unchanged.
 *
 * Deviation from pySigma, on purpose: Security 4688's ParentProcessName (renamed from Sigma's
 * ParentImage) maps to process.parent.executable like Sysmon's ParentImage (Winlogbeat's security
 * module fills that field from it; pySigma maps it to process.parent.name, a base name).
 */
import type { Field, FieldType } from "../ir/types.ts";
import type { Logsource } from "./profile.ts";
import { buildTemplate, typedField } from "./template.ts";
import { makeWindowsProfile, paramFields } from "./windows-profile.ts";
import { EVENT_DATA, OTHER_IP_FIELDS, SIGMA_ALIASES, USER_DATA } from "./winlogbeat.ts";
import { own } from "./lookup.ts";

/** Sigma field → ECS field for every Windows logsource (after the source's renames). */
export const ECS_FIELDS: Readonly<Record<string, string>> = {
  EventID: "event.code",
  Channel: "winlog.channel",
  Provider_Name: "winlog.provider_name",
  ComputerName: "winlog.computer_name",
  Computer: "winlog.computer_name",
  EventRecordID: "winlog.record_id",
  Level: "log.level",
  Keywords: "winlog.keywords",
  Message: "message",
  FileName: "file.path",
  ProcessGuid: "process.entity_id",
  ProcessId: "process.pid",
  Image: "process.executable",
  CurrentDirectory: "process.working_directory",
  ParentProcessGuid: "process.parent.entity_id",
  ParentProcessId: "process.parent.pid",
  ParentImage: "process.parent.executable",
  ParentCommandLine: "process.parent.command_line",
  TargetFilename: "file.path",
  SourceIp: "source.ip",
  SourceHostname: "source.domain",
  SourcePort: "source.port",
  DestinationIp: "destination.ip",
  DestinationHostname: "destination.domain",
  DestinationPort: "destination.port",
  DestinationPortName: "network.protocol",
  ImageLoaded: "file.path",
  Signed: "file.code_signature.signed",
  SignatureStatus: "file.code_signature.status",
  Imphash: "file.pe.imphash",
  SourceProcessGuid: "process.entity_id",
  SourceProcessId: "process.pid",
  SourceImage: "process.executable",
  Device: "file.path",
  SourceThreadId: "process.thread.id",
  TargetObject: "registry.path",
  PipeName: "file.name",
  Destination: "process.executable",
  QueryName: "dns.question.name",
  QueryStatus: "sysmon.dns.status",
  IsExecutable: "sysmon.file.is_executable",
  Archived: "sysmon.file.archived",
  CommandName: "powershell.command.name",
  CommandPath: "powershell.command.path",
  CommandType: "powershell.command.type",
  HostApplication: "process.command_line",
  HostId: "process.entity_id",
  HostName: "process.title",
  NewEngineState: "powershell.engine.new_state",
  PipelineId: "powershell.pipeline_id",
  PreviousEngineState: "powershell.engine.previous_state",
  RunspaceId: "powershell.runspace_id",
  ScriptName: "file.path",
  SequenceNumber: "event.sequence",
  NewProviderState: "powershell.provider.new_state",
  ProviderName: "powershell.provider.name",
  MessageNumber: "powershell.sequence",
  MessageTotal: "powershell.total",
  ScriptBlockText: "powershell.file.script_block_text",
  ScriptBlockId: "powershell.file.script_block_id",
  AccountDomain: "user.domain",
  AccountName: "user.name",
  Application: "process.executable",
  ClientAddress: "source.ip",
  ClientName: "source.domain",
  DestAddress: "destination.ip",
  DestPort: "destination.port",
  IpAddress: "source.ip",
  IpPort: "source.port",
  NewProcessId: "process.pid",
  NewProcessName: "process.executable",
  ParentProcessName: "process.parent.executable",
  ProcessName: "process.executable",
  SourceAddress: "source.ip",
  TargetDomainName: "user.domain",
  User: "user.name",
  WorkstationName: "source.domain",
  Payload: "powershell.file.script_block_text",
};

type Where = ["category" | "service", string, string];

/** Fields whose ECS name depends on the logsource (checked before ECS_FIELDS). */
export const ECS_BY_LOGSOURCE: Readonly<Record<string, readonly Where[]>> = {
  FileVersion: [
    ["category", "process_creation", "process.pe.file_version"],
    ["category", "image_load", "file.pe.file_version"],
  ],
  Description: [
    ["category", "process_creation", "process.pe.description"],
    ["category", "image_load", "file.pe.description"],
    ["category", "sysmon_error", "winlog.event_data.Description"],
  ],
  Product: [
    ["category", "process_creation", "process.pe.product"],
    ["category", "image_load", "file.pe.product"],
  ],
  Company: [
    ["category", "process_creation", "process.pe.company"],
    ["category", "image_load", "file.pe.company"],
  ],
  OriginalFileName: [
    ["category", "process_creation", "process.pe.original_file_name"],
    ["category", "image_load", "file.pe.original_file_name"],
  ],
  CommandLine: [
    ["category", "process_creation", "process.command_line"],
    ["service", "security", "process.command_line"],
    ["service", "powershell-classic", "powershell.command.value"],
  ],
  Protocol: [["category", "network_connection", "network.transport"]],
  Initiated: [["category", "network_connection", "network.direction"]],
  Signature: [
    ["category", "driver_load", "file.code_signature.subject_name"],
    ["category", "image_load", "file.code_signature.subject_name"],
  ],
  EngineVersion: [["service", "powershell-classic", "powershell.engine.version"]],
  HostVersion: [["service", "powershell-classic", "powershell.process.executable_version"]],
  SubjectLogonId: [["service", "security", "winlog.logon.id"]],
  ServiceName: [["service", "security", "service.name"]],
  SubjectDomainName: [["service", "security", "user.domain"]],
  SubjectUserName: [["service", "security", "user.name"]],
  SubjectUserSid: [["service", "security", "user.id"]],
  TargetLogonId: [["service", "security", "winlog.logon.id"]],
};

const TYPED: Record<string, FieldType> = {
  "event.code": "keyword",
  "winlog.event_id": "long",
  "winlog.record_id": "long",
  "winlog.channel": "keyword",
  "source.ip": "ip",
  "destination.ip": "ip",
  "source.port": "long",
  "destination.port": "long",
  "process.pid": "long",
  "process.parent.pid": "long",
  "process.thread.id": "long",
  "event.sequence": "long",
  "file.code_signature.signed": "boolean",
  message: "text",
  ...Object.fromEntries(OTHER_IP_FIELDS.map((f) => [f, "ip" as FieldType])),
};

export function ecsFieldType(indexField: string): Field {
  return typedField(indexField, own(TYPED, indexField) ?? "keyword");
}

function windowsFieldNames(sigmaField: string, ls: Logsource): string[] {
  const name = own(SIGMA_ALIASES, sigmaField) ?? sigmaField;
  const cat = ls.category?.toLowerCase();
  const svc = ls.service?.toLowerCase();
  for (const [kind, value, ecs] of own(ECS_BY_LOGSOURCE, name) ?? []) {
    if ((kind === "category" && cat === value) || (kind === "service" && svc === value)) return [ecs];
  }
  const ecs = own(ECS_FIELDS, name);
  if (ecs) return [ecs];
  if (name === "Data") return paramFields(EVENT_DATA);
  if (name.includes(".")) return [name];
  return [EVENT_DATA + name];
}

export const ecsProfile = makeWindowsProfile({
  name: "ecs",
  timeField: "@timestamp",
  windowsIndex: ["winlogbeat-*"],
  otherIndex: ["logs-*"],
  channelField: "winlog.channel",
  eventIdField: "event.code",
  eventDataPrefix: EVENT_DATA,
  userDataPrefix: USER_DATA,
  windowsFieldNames,
  fieldType: ecsFieldType,
  keywordExtra: ["message"],
  indexTemplate: () => buildTemplate(TYPED),
});
