/**
 * Where each Windows Sigma logsource comes from: event log channels, event ids, and the field
 * renames of sources that name a Sigma field differently (Security 4688 for process_creation).
 * Shared by the `winlogbeat` and `ecs` profiles; docs/logsources.md is generated from these tables
 * (scripts/gen-logsource-doc), so edit here, then regenerate.
 *
 * References used to build the tables (facts, not code): sigmac's tools/config/winlogbeat.yml,
 * pySigma's common `windows_logsource_mapping`, pySigma-pipeline-sysmon's category → event id table
 * and pySigma-pipeline-windows' audit (4688) renames; the channel names of services the corpus uses
 * that those lack come from the rules' own `definition:` lines and Microsoft's channel names.
 */
import { own } from "./lookup.ts";

/** One source of events for a logsource: a set of channels, optionally restricted to event ids. */
export interface WindowsSource {
  /** Short label for docs and error messages, e.g. "Sysmon 1", "Security 4688". */
  label: string;
  channels: readonly string[];
  /** Event ids within the channels; absent means every event of the channels. */
  eventIds?: readonly number[];
  /**
   * Sigma field name → the EventData name(s) this source uses for it (several: the field is
   * searched under each, ORed). Only renames whose target name never occurs in the other sources
   * of the same logsource with another meaning, so that `field()` can return the union of names
   * (see Profile.field). A target containing a dot is an index field as it stands.
   */
  renames?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * The source's events carry (some of) their data in `<UserData>`, which Winlogbeat sends as
   * `winlog.user_data.*`: every EventData field of a rule is searched there too.
   */
  userData?: boolean;
}

const SYSMON = "Microsoft-Windows-Sysmon/Operational";
const PS_OPERATIONAL = ["Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"];
const PS_CLASSIC = "Windows PowerShell";
const KERNEL_FILE = "Microsoft-Windows-Kernel-File/Analytic";

/** Sigma `service` → event log channel(s). Every Windows service in the corpus, plus pySigma's. */
export const SERVICE_CHANNELS: Readonly<Record<string, readonly string[]>> = {
  security: ["Security"],
  system: ["System"],
  application: ["Application"],
  sysmon: [SYSMON],
  powershell: PS_OPERATIONAL,
  "powershell-classic": [PS_CLASSIC],
  taskscheduler: ["Microsoft-Windows-TaskScheduler/Operational"],
  wmi: ["Microsoft-Windows-WMI-Activity/Operational"],
  "dns-server": ["DNS Server"],
  "dns-server-audit": ["Microsoft-Windows-DNS-Server/Audit"],
  "dns-server-analytic": ["Microsoft-Windows-DNS-Server/Analytical"],
  "dns-client": ["Microsoft-Windows-DNS Client Events/Operational"],
  "driver-framework": ["Microsoft-Windows-DriverFrameworks-UserMode/Operational"],
  ntlm: ["Microsoft-Windows-NTLM/Operational"],
  dhcp: ["Microsoft-Windows-DHCP-Server/Operational"],
  "msexchange-management": ["MSExchange Management"],
  applocker: [
    "Microsoft-Windows-AppLocker/MSI and Script",
    "Microsoft-Windows-AppLocker/EXE and DLL",
    "Microsoft-Windows-AppLocker/Packaged app-Deployment",
    "Microsoft-Windows-AppLocker/Packaged app-Execution",
  ],
  "printservice-admin": ["Microsoft-Windows-PrintService/Admin"],
  "printservice-operational": ["Microsoft-Windows-PrintService/Operational"],
  "codeintegrity-operational": ["Microsoft-Windows-CodeIntegrity/Operational"],
  "smbclient-security": ["Microsoft-Windows-SmbClient/Security"],
  "smbclient-connectivity": ["Microsoft-Windows-SmbClient/Connectivity"],
  "smbserver-connectivity": ["Microsoft-Windows-SMBServer/Connectivity"],
  "firewall-as": ["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"],
  "bits-client": ["Microsoft-Windows-Bits-Client/Operational"],
  windefend: ["Microsoft-Windows-Windows Defender/Operational"],
  "terminalservices-localsessionmanager": ["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"],
  "microsoft-servicebus-client": ["Microsoft-ServiceBus-Client"],
  ldap: ["Microsoft-Windows-LDAP-Client/Debug"],
  ldap_debug: ["Microsoft-Windows-LDAP-Client/Debug"],
  "security-mitigations": [
    "Microsoft-Windows-Security-Mitigations/Kernel Mode",
    "Microsoft-Windows-Security-Mitigations/User Mode",
  ],
  "diagnosis-scripted": ["Microsoft-Windows-Diagnosis-Scripted/Operational"],
  "shell-core": ["Microsoft-Windows-Shell-Core/Operational"],
  openssh: ["OpenSSH/Operational"],
  bitlocker: ["Microsoft-Windows-BitLocker/BitLocker Management"],
  "appmodel-runtime": ["Microsoft-Windows-AppModel-Runtime/Admin"],
  "appxdeployment-server": ["Microsoft-Windows-AppXDeploymentServer/Operational"],
  "appxpackaging-om": ["Microsoft-Windows-AppxPackaging/Operational"],
  capi2: ["Microsoft-Windows-CAPI2/Operational"],
  "certificateservicesclient-lifecycle-system": [
    "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
  ],
  "iis-configuration": ["Microsoft-IIS-Configuration/Operational"],
  "lsa-server": ["Microsoft-Windows-LSA/Operational"],
};

/**
 * The names Microsoft Defender Antivirus writes in its EventData (Microsoft-Windows-Windows
 * Defender/Operational), with spaces; Winlogbeat keeps them so (`winlog.event_data.Threat Name`).
 * Sigma rules write them without the spaces (`ThreatName`) or with underscores (`Feature_Name`).
 */
export const DEFENDER_NAMES: readonly string[] = [
  "Action ID",
  "Action Name",
  "Additional Actions ID",
  "Additional Actions String",
  "Category ID",
  "Category Name",
  "Detection ID",
  "Detection Time",
  "Detection User",
  "Engine Version",
  "Error Code",
  "Error Description",
  "Execution ID",
  "Execution Name",
  "Feature ID",
  "Feature Name",
  "New Value",
  "Old Value",
  "Origin ID",
  "Origin Name",
  "Post Clean Status",
  "Pre Execution Status",
  "Process Name",
  "Product Name",
  "Product Version",
  "Remediation User",
  "Scan ID",
  "Scan Parameters",
  "Scan Parameters Index",
  "Scan Resources",
  "Scan Type",
  "Scan Type Index",
  "Security intelligence Type",
  "Security intelligence Version",
  "Severity ID",
  "Severity Name",
  "Source ID",
  "Source Name",
  "Status Code",
  "Status Description",
  "Threat ID",
  "Threat Name",
  "Type ID",
  "Type Name",
];

/** Sigma's spellings of each Defender name (`ThreatName`, `Threat_Name`) → the name as written, and the Sigma one. */
function defenderRenames(): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const n of DEFENDER_NAMES) {
    for (const sigma of [n.replaceAll(" ", ""), n.replaceAll(" ", "_")]) out[sigma] = [n, sigma];
  }
  return out;
}

/**
 * What a service's source needs besides its channels: field renames, and whether its events hold
 * their data in UserData. The UserData services are those whose manifests declare UserData for
 * the events the corpus's rules name (WMI-Activity 5857-5861, TerminalServices-LocalSessionManager
 * 21-25, AppLocker, PrintService, CAPI2, DriverFrameworks, CertificateServicesClient, AppModel).
 * System 104 ("log cleared") names the cleared log in its UserData `Channel`, which is what the
 * corpus's rules on `Channel` under `service: system` mean (its own channel is always System).
 */
export const SERVICE_DATA: Readonly<Record<string, Pick<WindowsSource, "renames" | "userData">>> = {
  windefend: { renames: defenderRenames() },
  wmi: { userData: true },
  "terminalservices-localsessionmanager": { userData: true },
  applocker: { userData: true },
  "printservice-admin": { userData: true },
  "printservice-operational": { userData: true },
  capi2: { userData: true },
  "driver-framework": { userData: true },
  "certificateservicesclient-lifecycle-system": { userData: true },
  "appmodel-runtime": { userData: true },
  system: { renames: { Channel: "winlog.user_data.Channel" } },
};

const sysmon = (...ids: number[]): WindowsSource => ({
  label: `Sysmon ${ids.join("/")}`,
  channels: [SYSMON],
  eventIds: ids,
});

/**
 * Security 4688 names the Sysmon 1 fields differently. Only renames with the same values are
 * listed: ProcessId (4688's NewProcessId is hex, and 4688's own `ProcessId` is the parent's),
 * User (4688 splits user and domain) and IntegrityLevel (4688 has a SID label) are not renamed, so
 * rules on them match Sysmon events only.
 */
const SECURITY_4688: WindowsSource = {
  label: "Security 4688",
  channels: ["Security"],
  eventIds: [4688],
  renames: {
    Image: "NewProcessName",
    ParentImage: "ParentProcessName",
    LogonId: "TargetLogonId",
  },
};

/** Sigma `category` → its sources (ORed). Every Windows category in the corpus, plus the Sysmon ones. */
export const CATEGORY_SOURCES: Readonly<Record<string, readonly WindowsSource[]>> = {
  process_creation: [sysmon(1), SECURITY_4688],
  file_change: [sysmon(2)],
  network_connection: [sysmon(3)],
  sysmon_status: [sysmon(4, 16)],
  process_termination: [sysmon(5)],
  driver_load: [sysmon(6)],
  image_load: [sysmon(7)],
  create_remote_thread: [sysmon(8)],
  raw_access_thread: [sysmon(9)],
  process_access: [sysmon(10)],
  file_event: [sysmon(11)],
  // Sysmon 12 is "registry object added or deleted" (EventType CreateKey/DeleteKey/...).
  registry_add: [sysmon(12)],
  registry_delete: [sysmon(12)],
  registry_set: [sysmon(13)],
  registry_rename: [sysmon(14)],
  registry_event: [sysmon(12, 13, 14)],
  create_stream_hash: [sysmon(15)],
  pipe_created: [sysmon(17, 18)],
  wmi_event: [sysmon(19, 20, 21)],
  dns_query: [sysmon(22)],
  file_delete: [sysmon(23, 26)],
  clipboard_capture: [sysmon(24)],
  process_tampering: [sysmon(25)],
  file_block_executable: [sysmon(27)],
  file_block_shredding: [sysmon(28)],
  file_executable_detected: [sysmon(29)],
  sysmon_error: [sysmon(255)],
  ps_module: [{ label: "PowerShell 4103", channels: PS_OPERATIONAL, eventIds: [4103] }],
  ps_script: [{ label: "PowerShell 4104", channels: PS_OPERATIONAL, eventIds: [4104] }],
  ps_classic_start: [{ label: "Windows PowerShell 400", channels: [PS_CLASSIC], eventIds: [400] }],
  ps_classic_provider_start: [{ label: "Windows PowerShell 600", channels: [PS_CLASSIC], eventIds: [600] }],
  ps_classic_script: [{ label: "Windows PowerShell 800", channels: [PS_CLASSIC], eventIds: [800] }],
  // Sysmon has no file access or rename event: these rules need the Kernel-File ETW provider
  // (as their `definition:` says) forwarded into its analytic channel; the guard is the channel only.
  file_access: [{ label: "Kernel-File", channels: [KERNEL_FILE] }],
  file_rename: [{ label: "Kernel-File", channels: [KERNEL_FILE] }],
};

/**
 * Fields whose value is a list of unnamed `<Data>` elements in some Windows events (classic
 * PowerShell 400/600/800, Application Error, MSExchange Management): winlogbeat and the evtx
 * converter name them `param1`, `param2`, …; Sigma calls the list `Data`.
 */
export const UNNAMED_DATA_PARAMS = 24;
export const PARAM_FIELDS: readonly string[] = Array.from({ length: UNNAMED_DATA_PARAMS }, (_, i) => `param${i + 1}`);

/** The sources of a Windows logsource, or why there are none. */
export function windowsSources(ls: {
  category?: string;
  service?: string;
}): { sources: readonly WindowsSource[] | null } | { unsupported: string } {
  const cat = ls.category === undefined ? undefined : String(ls.category).toLowerCase();
  const svc = ls.service === undefined ? undefined : String(ls.service).toLowerCase();
  let fromCategory: readonly WindowsSource[] | undefined;
  let fromService: readonly WindowsSource[] | undefined;
  if (cat !== undefined) {
    fromCategory = own(CATEGORY_SOURCES, cat);
    if (!fromCategory) {
      return {
        unsupported: `logsource category '${ls.category}' is not mapped for product windows (known: ${Object.keys(CATEGORY_SOURCES).sort().join(", ")})`,
      };
    }
  }
  if (svc !== undefined) {
    const channels = own(SERVICE_CHANNELS, svc);
    if (!channels) {
      return {
        unsupported: `logsource service '${ls.service}' is not mapped for product windows (no known event log channel)`,
      };
    }
    fromService = [{ label: `service ${svc}`, channels, ...own(SERVICE_DATA, svc) }];
  }
  if (fromCategory && fromService) {
    // Both given: keep the category's sources that live in the service's channels.
    const allowed = new Set(fromService[0]!.channels);
    const kept = fromCategory
      .map((s) => ({ ...s, channels: s.channels.filter((c) => allowed.has(c)) }))
      .filter((s) => s.channels.length > 0);
    if (kept.length === 0) {
      return {
        unsupported: `logsource category '${ls.category}' with service '${ls.service}': no source provides both (${fromCategory.map((s) => s.label).join(", ")} vs channel ${fromService[0]!.channels.join(", ")})`,
      };
    }
    return { sources: kept };
  }
  return { sources: fromCategory ?? fromService ?? null };
}
