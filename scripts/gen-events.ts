/**
 * A deterministic, seeded generator of winlogbeat-shaped Windows events (CONTRACT.md's event shape) for
 * tests, demos and benchmarks: Sysmon 1/3/7/11/12/13/14, Security 4688/4624/4625 and PowerShell 4104,
 * with realistic paths and command lines, and the untidiness of real data: mixed case, numbers as
 * strings or numbers, missing fields, empty strings, one-element arrays, unicode, existing `tags`.
 * A fraction of the events is built from the literals of Sigma rules' selections so that many rules
 * have hits (best effort; the rule ids are listed with --hits).
 *
 *   scripts/gen-events --count 100000 --seed 7 --out events.ndjson [--since ISO|DURATION --until ISO]
 *                      [--rules DIR] [--hit-rate 0.05] [--hits hits.ndjson]
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";

// ---------------------------------------------------------------------------------------------------
// Randomness: one seeded stream (sfc32), so the same arguments give the same bytes.

export type Rng = () => number;

export function rngFrom(seed: string | number): Rng {
  // xmur3 string hash → four 32-bit words of state.
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const next = () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return (h ^= h >>> 16) >>> 0;
  };
  let a = next(), b = next(), c = next(), d = next();
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rng, p: number) => r() < p;
const hex = (r: Rng, n: number) => Array.from({ length: n }, () => "0123456789ABCDEF"[int(r, 0, 15)]).join("");
const guid = (r: Rng) => `{${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}}`;

// ---------------------------------------------------------------------------------------------------
// The world the events happen in.

const COMPUTERS = ["WS-0142.corp.example.com", "WS-0217.corp.example.com", "LAPTOP-7QK2M1", "DC01.corp.example.com", "SRV-SQL02.corp.example.com", "FILESRV01.corp.example.com", "WS-0388.corp.example.com", "KIOSK-ÅRHUS-1"];
const DOMAIN = "CORP";
const USERS = ["jsmith", "a.kowalski", "mgarcía", "Дмитрий.П", "李伟", "svc_backup", "Administrator", "j.o'neil", "SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE"];
const HUMANS = ["jsmith", "a.kowalski", "mgarcía", "Дмитрий.П", "李伟", "j.o'neil"];

interface Proc {
  image: string;
  cmd: (r: Rng, user: string) => string;
  company?: string;
  product?: string;
  description?: string;
}

const SYS32 = "C:\\Windows\\System32";
const PROCS: Proc[] = [
  { image: `${SYS32}\\svchost.exe`, cmd: (r) => `${SYS32}\\svchost.exe -k ${pick(r, ["netsvcs", "LocalServiceNetworkRestricted", "DcomLaunch", "RPCSS"])} -p${chance(r, 0.5) ? ` -s ${pick(r, ["Schedule", "BITS", "wuauserv", "Appinfo"])}` : ""}`, company: "Microsoft Corporation", description: "Host Process for Windows Services" },
  { image: `${SYS32}\\cmd.exe`, cmd: (r, u) => pick(r, [`cmd.exe /c dir "C:\\Users\\${u}\\Documents"`, `"C:\\Windows\\system32\\cmd.exe" /c echo %PATH%`, `cmd /c ipconfig /all`, `cmd.exe /c "type C:\\ProgramData\\app\\config.ini"`, `cmd.exe /Q /c del /f "C:\\Users\\${u}\\AppData\\Local\\Temp\\~tmp${int(r, 100, 999)}.tmp"`]), company: "Microsoft Corporation", description: "Windows Command Processor" },
  { image: `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`, cmd: (r) => pick(r, ["powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\inventory.ps1", "powershell -nop -c \"Get-Service | Where-Object {$_.Status -eq 'Running'}\"", "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -Command Get-ChildItem Env:", "powershell.exe Get-Date -Format o"]), company: "Microsoft Corporation", description: "Windows PowerShell" },
  { image: "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", cmd: (r) => `"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=${pick(r, ["renderer", "gpu-process", "utility"])} --field-trial-handle=${int(r, 1000, 9999)},i,${int(r, 1e9, 9e9)} /prefetch:${int(r, 1, 8)}`, company: "Google LLC", description: "Google Chrome" },
  { image: "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", cmd: (_r, u) => `"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE" /n "C:\\Users\\${u}\\Documents\\Résumé 2024.docx"`, company: "Microsoft Corporation", description: "Microsoft Word" },
  { image: "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", cmd: (_r, u) => `"C:\\Program Files\\Microsoft Office\\Root\\Office16\\EXCEL.EXE" "C:\\Users\\${u}\\Desktop\\отчёт_Q3.xlsx"`, company: "Microsoft Corporation", description: "Microsoft Excel" },
  { image: `${SYS32}\\conhost.exe`, cmd: () => "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", company: "Microsoft Corporation", description: "Console Window Host" },
  { image: `${SYS32}\\taskhostw.exe`, cmd: () => "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}", company: "Microsoft Corporation" },
  { image: `${SYS32}\\rundll32.exe`, cmd: (r) => pick(r, ["rundll32.exe C:\\Windows\\system32\\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding", "C:\\Windows\\system32\\rundll32.exe C:\\Windows\\System32\\LogiLDA.dll,LogiFetch"]), company: "Microsoft Corporation", description: "Windows host process (Rundll32)" },
  { image: `${SYS32}\\msiexec.exe`, cmd: () => "C:\\Windows\\system32\\msiexec.exe /V", company: "Microsoft Corporation" },
  { image: "C:\\Program Files\\Notepad++\\notepad++.exe", cmd: (_r, u) => `"C:\\Program Files\\Notepad++\\notepad++.exe" "C:\\Users\\${u}\\Desktop\\notes 📝.txt"`, company: "Don HO don.h@free.fr" },
  { image: `${SYS32}\\wbem\\WmiPrvSE.exe`, cmd: () => "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", company: "Microsoft Corporation" },
  { image: `${SYS32}\\SearchIndexer.exe`, cmd: () => "C:\\Windows\\system32\\SearchIndexer.exe /Embedding", company: "Microsoft Corporation" },
  { image: "C:\\Users\\USER\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe", cmd: () => "\"C:\\Users\\USER\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe\" --type=renderer --autoplay-policy=no-user-gesture-required", company: "Microsoft Corporation" },
  { image: `${SYS32}\\net.exe`, cmd: (r) => pick(r, ["net use", "net.exe view \\\\FILESRV01", "net user /domain", "net localgroup administrators"]), company: "Microsoft Corporation" },
  { image: `${SYS32}\\sc.exe`, cmd: (r) => `sc.exe query ${pick(r, ["WinDefend", "wuauserv", "Spooler"])}`, company: "Microsoft Corporation" },
];
const PARENTS = [`${SYS32}\\services.exe`, "C:\\Windows\\explorer.exe", `${SYS32}\\svchost.exe`, `${SYS32}\\cmd.exe`, `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`, `${SYS32}\\userinit.exe`, `${SYS32}\\wininit.exe`];
const DLLS = ["ntdll.dll", "kernel32.dll", "KernelBase.dll", "advapi32.dll", "user32.dll", "ws2_32.dll", "crypt32.dll", "amsi.dll", "clr.dll", "wininet.dll", "dbghelp.dll", "samlib.dll", "vaultcli.dll", "System.Management.Automation.ni.dll"];
const HOSTS = ["www.google.com", "login.microsoftonline.com", "update.example.com", "cdn.jsdelivr.net", "dc01.corp.example.com", "fileserver", "münchen-proxy.corp.example.com"];
const REG_KEYS = [
  "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\OneDrive",
  "HKU\\S-1-5-21-3623811015-3361044348-30300820-1013\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.docx",
  "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\S-1-5-18\\\\Device\\HarddiskVolume3\\Windows\\System32\\svchost.exe",
  "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Real-Time Protection\\DisableRealtimeMonitoring",
  "HKCU\\Software\\Classes\\ms-settings\\shell\\open\\command",
  "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\LmCompatibilityLevel",
  "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{90160000-0011-0000-0000-0000000FF1CE}\\DisplayName",
];
const FILE_TARGETS = (r: Rng, u: string) =>
  pick(r, [
    `C:\\Users\\${u}\\AppData\\Local\\Temp\\${hex(r, 6).toLowerCase()}.tmp`,
    `C:\\Users\\${u}\\Downloads\\invoice_${int(r, 1000, 9999)}.pdf`,
    `C:\\Users\\${u}\\Documents\\Budget 2024 – final.xlsx`,
    `C:\\Windows\\Prefetch\\${pick(r, ["CMD.EXE", "SVCHOST.EXE", "CHROME.EXE"])}-${hex(r, 8)}.pf`,
    `C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\DetectionHistory\\${hex(r, 2)}\\${guid(r)}`,
    `C:\\Users\\${u}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\文件.lnk`,
    `C:\\Windows\\Temp\\MpCmdRun.log`,
  ]);
const PS_BLOCKS = [
  "Get-ChildItem -Path C:\\Logs -Filter *.log | Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-30) } | Remove-Item",
  "$ErrorActionPreference = 'Stop'\nImport-Module ActiveDirectory\nGet-ADUser -Filter * -Properties LastLogonDate | Select-Object Name, LastLogonDate",
  "function Test-Port { param($h, $p) (New-Object Net.Sockets.TcpClient).Connect($h, $p) }",
  "Write-Host \"Sauvegarde terminée ✔\"",
  "{ Set-StrictMode -Version 1; $_.PSMessageDetails }",
  "prompt",
];

// ---------------------------------------------------------------------------------------------------
// Documents.

export interface WinEvent {
  channel: string;
  provider: string;
  eventId: number;
  data: Record<string, unknown>;
}

export interface Doc {
  "@timestamp": string;
  event: { code: string; kind: string; provider: string; created?: string };
  winlog: {
    event_id: number | string;
    channel: string;
    provider_name: string;
    computer_name: string;
    record_id: number | string;
    event_data: Record<string, unknown>;
    user?: { domain?: string; name?: string };
  };
  host: { name: string };
  agent: { type: string; version: string };
  tags?: string[] | string;
  message?: string;
}

const SYSMON: [string, string] = ["Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon"];
const SECURITY: [string, string] = ["Security", "Microsoft-Windows-Security-Auditing"];
const POWERSHELL: [string, string] = ["Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell"];

interface Ctx {
  r: Rng;
  computer: string;
  user: string;
  time: string;
}

/** Mixed case the way real Windows paths come: C:\WINDOWS\system32 vs C:\Windows\System32. */
function casing(r: Rng, s: string): string {
  const x = r();
  if (x < 0.75) return s;
  if (x < 0.85) return s.toLowerCase();
  if (x < 0.9) return s.toUpperCase();
  return s.replace(/\\Windows\\System32\\/i, "\\WINDOWS\\system32\\");
}

/** Windows logs every number as text; some shippers turn them into numbers. */
const num = (r: Rng, n: number): number | string => (chance(r, 0.8) ? String(n) : n);

function procImage(r: Rng, p: Proc, user: string): string {
  return casing(r, p.image.replace("\\USER\\", `\\${user}\\`));
}

function sysmonBase(c: Ctx, extra: Record<string, unknown>): Record<string, unknown> {
  return { RuleName: chance(c.r, 0.9) ? "-" : "", UtcTime: c.time.replace("T", " ").replace("Z", ""), ProcessGuid: guid(c.r), ProcessId: num(c.r, int(c.r, 4, 20000)), ...extra };
}

function processCreation(c: Ctx): WinEvent {
  const { r, user } = c;
  const p = pick(r, PROCS);
  const image = procImage(r, p, user);
  const parent = casing(r, pick(r, PARENTS));
  const commandLine = p.cmd(r, user);
  if (chance(r, 0.33)) {
    // Security 4688: NewProcessName/ParentProcessName, hex process ids, the creator as Subject*.
    return {
      channel: SECURITY[0], provider: SECURITY[1], eventId: 4688,
      data: {
        SubjectUserSid: "S-1-5-18", SubjectUserName: `${c.computer.split(".")[0]}$`, SubjectDomainName: DOMAIN, SubjectLogonId: "0x3e7",
        NewProcessId: `0x${int(r, 0x100, 0xffff).toString(16)}`, NewProcessName: image, TokenElevationType: "%%1936",
        ProcessId: `0x${int(r, 0x100, 0xffff).toString(16)}`, CommandLine: chance(r, 0.1) ? "" : commandLine,
        TargetUserSid: "S-1-0-0", TargetUserName: user, TargetDomainName: DOMAIN, TargetLogonId: `0x${hex(r, 6).toLowerCase()}`,
        ParentProcessName: parent, MandatoryLabel: "S-1-16-8192",
      },
    };
  }
  return {
    channel: SYSMON[0], provider: SYSMON[1], eventId: 1,
    data: sysmonBase(c, {
      Image: image, FileVersion: `10.0.${int(r, 17763, 22631)}.${int(r, 1, 3000)} (WinBuild.160101.0800)`,
      Description: p.description ?? "", Product: p.product ?? "Microsoft® Windows® Operating System", Company: p.company ?? "",
      OriginalFileName: path.win32.basename(p.image).toUpperCase(), CommandLine: commandLine,
      CurrentDirectory: casing(r, chance(r, 0.5) ? `${SYS32}\\` : `C:\\Users\\${user}\\`), User: `${DOMAIN}\\${user}`,
      LogonGuid: guid(r), LogonId: `0x${hex(r, 6).toLowerCase()}`, TerminalSessionId: num(r, int(r, 0, 3)), IntegrityLevel: pick(r, ["Medium", "High", "System"]),
      Hashes: `SHA1=${hex(r, 40)},MD5=${hex(r, 32)},SHA256=${hex(r, 64)},IMPHASH=${hex(r, 32)}`,
      ParentProcessGuid: guid(r), ParentProcessId: num(r, int(r, 4, 20000)), ParentImage: parent,
      ParentCommandLine: parent.toLowerCase().endsWith("explorer.exe") ? "C:\\Windows\\Explorer.EXE" : parent, ParentUser: `${DOMAIN}\\${user}`,
    }),
  };
}

function networkConnection(c: Ctx): WinEvent {
  const { r, user } = c;
  const p = pick(r, PROCS);
  const outbound = chance(r, 0.85);
  const ipv6 = chance(r, 0.1);
  const dst = ipv6 ? `2001:db8::${hex(r, 4).toLowerCase()}` : chance(r, 0.5) ? `10.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}` : `${int(r, 11, 223)}.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`;
  return {
    channel: SYSMON[0], provider: SYSMON[1], eventId: 3,
    data: sysmonBase(c, {
      Image: procImage(r, p, user), User: `${DOMAIN}\\${user}`, Protocol: chance(r, 0.9) ? "tcp" : "udp", Initiated: outbound ? "true" : "false",
      SourceIsIpv6: ipv6 ? "true" : "false", SourceIp: ipv6 ? "fe80::1" : `10.1.${int(r, 0, 20)}.${int(r, 2, 250)}`, SourceHostname: c.computer, SourcePort: num(r, int(r, 49152, 65535)), SourcePortName: "",
      DestinationIsIpv6: ipv6 ? "true" : "false", DestinationIp: dst, DestinationHostname: chance(r, 0.2) ? "" : pick(r, HOSTS),
      DestinationPort: num(r, pick(r, [443, 443, 443, 80, 445, 53, 389, 3389, 5985, 8080])), DestinationPortName: chance(r, 0.5) ? "https" : "-",
    }),
  };
}

function fileCreate(c: Ctx): WinEvent {
  const { r, user } = c;
  return {
    channel: SYSMON[0], provider: SYSMON[1], eventId: 11,
    data: sysmonBase(c, { Image: procImage(r, pick(r, PROCS), user), TargetFilename: casing(r, FILE_TARGETS(r, user)), CreationUtcTime: c.time.replace("T", " ").replace("Z", ""), User: `${DOMAIN}\\${user}` }),
  };
}

function registry(c: Ctx): WinEvent {
  const { r, user } = c;
  const eventId = pick(r, [12, 13, 13, 13, 14]);
  const key = pick(r, REG_KEYS);
  const data: Record<string, unknown> = {
    EventType: eventId === 12 ? pick(r, ["CreateKey", "DeleteValue", "CreateKey"]) : eventId === 13 ? "SetValue" : "RenameKey",
    Image: procImage(r, pick(r, PROCS), user), TargetObject: chance(r, 0.1) ? key.toLowerCase() : key, User: `${DOMAIN}\\${user}`,
  };
  if (eventId === 13) data.Details = pick(r, ["DWORD (0x00000001)", "DWORD (0x00000000)", `"C:\\Users\\${user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background`, "Binary Data", "QWORD (0x00000000-0x5f5e1000)"]);
  if (eventId === 14) data.NewName = `${key}_old`;
  return { channel: SYSMON[0], provider: SYSMON[1], eventId, data: sysmonBase(c, data) };
}

function imageLoad(c: Ctx): WinEvent {
  const { r, user } = c;
  const dll = pick(r, DLLS);
  const loaded = dll.endsWith(".ni.dll") ? `C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\${hex(r, 32).toLowerCase()}\\${dll}` : `${SYS32}\\${dll}`;
  return {
    channel: SYSMON[0], provider: SYSMON[1], eventId: 7,
    data: sysmonBase(c, {
      Image: procImage(r, pick(r, PROCS), user), ImageLoaded: casing(r, loaded), FileVersion: "10.0.19041.1 (WinBuild.160101.0800)", Description: "", Product: "Microsoft® Windows® Operating System",
      Company: "Microsoft Corporation", OriginalFileName: dll, Hashes: `SHA256=${hex(r, 64)}`, Signed: "true", Signature: "Microsoft Windows", SignatureStatus: "Valid", User: `${DOMAIN}\\${user}`,
    }),
  };
}

function logon(c: Ctx): WinEvent {
  const { r, user } = c;
  const failed = chance(r, 0.2);
  const logonType = pick(r, [2, 3, 3, 3, 5, 7, 10, 11]);
  const data: Record<string, unknown> = {
    SubjectUserSid: "S-1-5-18", SubjectUserName: `${c.computer.split(".")[0]}$`, SubjectDomainName: DOMAIN, SubjectLogonId: "0x3e7",
    TargetUserSid: failed ? "S-1-0-0" : `S-1-5-21-3623811015-3361044348-30300820-${int(r, 1000, 1200)}`, TargetUserName: user, TargetDomainName: chance(r, 0.1) ? DOMAIN.toLowerCase() : DOMAIN,
    LogonType: num(r, logonType), LogonProcessName: logonType === 3 ? "NtLmSsp " : "User32 ", AuthenticationPackageName: pick(r, ["NTLM", "Negotiate", "Kerberos"]),
    WorkstationName: chance(r, 0.2) ? "-" : pick(r, COMPUTERS).split(".")[0], ProcessId: "0x0", ProcessName: "-",
    IpAddress: chance(r, 0.1) ? "-" : `10.1.${int(r, 0, 20)}.${int(r, 2, 250)}`, IpPort: num(r, chance(r, 0.3) ? 0 : int(r, 49152, 65535)),
  };
  if (failed) Object.assign(data, { Status: "0xc000006d", SubStatus: pick(r, ["0xc000006a", "0xc0000064", "0xc0000072"]), FailureReason: "%%2313" });
  else Object.assign(data, { TargetLogonId: `0x${hex(r, 6).toLowerCase()}`, LogonGuid: guid(r), ElevatedToken: pick(r, ["%%1842", "%%1843"]), ImpersonationLevel: "%%1833", KeyLength: num(r, 0) });
  return { channel: SECURITY[0], provider: SECURITY[1], eventId: failed ? 4625 : 4624, data };
}

function scriptBlock(c: Ctx): WinEvent {
  const { r } = c;
  const text = pick(r, PS_BLOCKS);
  return {
    channel: POWERSHELL[0], provider: POWERSHELL[1], eventId: 4104,
    data: { MessageNumber: num(r, 1), MessageTotal: num(r, 1), ScriptBlockText: text, ScriptBlockId: guid(r).slice(1, -1).toLowerCase(), Path: chance(r, 0.6) ? "" : `C:\\Scripts\\${pick(r, ["inventory", "cleanup", "ad-report"])}.ps1` },
  };
}

const KINDS: Array<[number, (c: Ctx) => WinEvent]> = [
  [30, processCreation], [15, networkConnection], [12, fileCreate], [12, registry], [15, imageLoad], [10, logon], [6, scriptBlock],
];
const KIND_TOTAL = KINDS.reduce((s, [w]) => s + w, 0);

function ordinaryEvent(c: Ctx): WinEvent {
  let x = c.r() * KIND_TOTAL;
  for (const [w, make] of KINDS) if ((x -= w) < 0) return make(c);
  return processCreation(c);
}

// ---------------------------------------------------------------------------------------------------
// Sigma hits: events built from the literals of a rule's positive selections.

/** One `field|mods: values` line of a selection. */
export interface Constraint {
  mods: string[];
  values: unknown[];
}

export interface HitRule {
  id: string;
  title: string;
  /** Which kind of base event to start from. */
  make: (c: Ctx) => WinEvent;
  /** Per positive selection: field → every constraint on it (a field may appear with several modifiers). */
  selections: Array<Record<string, Constraint[]>>;
}

const CATEGORY_MAKERS: Record<string, (c: Ctx) => WinEvent> = {
  process_creation: (c) => sysmonOnly(c, processCreation),
  network_connection: networkConnection,
  file_event: fileCreate,
  registry_set: (c) => withId(registry(c), 13),
  registry_add: (c) => withId(registry(c), 12),
  registry_delete: (c) => withId(registry(c), 12),
  registry_event: registry,
  image_load: imageLoad,
  ps_script: scriptBlock,
};
const SERVICE_CHANNELS: Record<string, [string, string]> = {
  security: SECURITY,
  sysmon: SYSMON,
  system: ["System", "Service Control Manager"],
  "powershell": POWERSHELL,
};

function withId(e: WinEvent, id: number): WinEvent {
  return { ...e, eventId: id };
}
function sysmonOnly(c: Ctx, make: (c: Ctx) => WinEvent): WinEvent {
  for (;;) {
    const e = make(c);
    if (e.eventId === 1) return e;
  }
}

/** Modifiers this generator can turn into a matching value; a field with any other is skipped. */
const KNOWN_MODS = new Set(["contains", "startswith", "endswith", "all", "windash", "cased", "base64", "base64offset", "cidr", "exists", "gt", "gte", "lt", "lte"]);

type Cond = { k: "id"; name: string } | { k: "of"; all: boolean; pattern: string } | { k: "and" | "or"; a: Cond; b: Cond } | { k: "not"; a: Cond };

function parseCondition(condition: string): Cond {
  const tokens = condition.replace(/\(/g, " ( ").replace(/\)/g, " ) ").split(/\s+/).filter(Boolean);
  let i = 0;
  const peek = () => tokens[i]?.toLowerCase();
  const or = (): Cond => {
    let n = and();
    while (peek() === "or") { i++; n = { k: "or", a: n, b: and() }; }
    return n;
  };
  const and = (): Cond => {
    let n = not();
    while (peek() === "and") { i++; n = { k: "and", a: n, b: not() }; }
    return n;
  };
  const not = (): Cond => (peek() === "not" ? (i++, { k: "not", a: not() }) : atom());
  const atom = (): Cond => {
    const t = tokens[i++];
    if (t === undefined) throw new Error("condition ends early");
    if (t === "(") {
      const n = or();
      if (tokens[i++] !== ")") throw new Error("missing )");
      return n;
    }
    if (/^(all|any|\d+)$/i.test(t) && tokens[i]?.toLowerCase() === "of") {
      i++;
      return { k: "of", all: t.toLowerCase() === "all", pattern: tokens[i++] ?? "" };
    }
    return { k: "id", name: t };
  };
  const n = or();
  if (i < tokens.length) throw new Error(`unexpected ${tokens[i]}`);
  return n;
}

/**
 * The selections an event must satisfy for the condition to hold, best effort: every branch of an
 * `and`, the first satisfiable branch of an `or`, nothing under a `not` (filters are left to chance).
 */
export function positiveSelections(condition: string, names: string[]): string[] {
  const matching = (pat: string) =>
    pat === "them" ? names : names.filter((n) => new RegExp(`^${pat.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(n));
  const collect = (c: Cond): string[] => {
    switch (c.k) {
      case "id": return names.includes(c.name) ? [c.name] : [];
      case "of": { const ms = matching(c.pattern); return c.all ? ms : ms.slice(0, 1); }
      case "and": return [...collect(c.a), ...collect(c.b)];
      case "or": { const a = collect(c.a); return a.length ? a : collect(c.b); }
      case "not": return [];
    }
  };
  try {
    return [...new Set(collect(parseCondition(condition)))];
  } catch {
    return [];
  }
}

/** Turns one Sigma rule into a HitRule, or undefined when it is outside what this generator covers. */
export function hitRuleFrom(doc: any): HitRule | undefined {
  if (!doc || typeof doc !== "object" || doc.logsource?.product !== "windows") return undefined;
  const det = doc.detection;
  if (!det || typeof det.condition !== "string") return undefined;
  let make = CATEGORY_MAKERS[doc.logsource.category ?? ""];
  if (!make && doc.logsource.service && SERVICE_CHANNELS[doc.logsource.service]) {
    const [channel, provider] = SERVICE_CHANNELS[doc.logsource.service]!;
    make = (c) => ({ channel, provider, eventId: 0, data: {} });
  }
  if (!make) return undefined;
  const names = Object.keys(det).filter((k) => k !== "condition" && k !== "timeframe");
  const selections: HitRule["selections"] = [];
  for (const name of positiveSelections(det.condition, names)) {
    const sel = det[name];
    const alternatives = Array.isArray(sel) ? sel.filter((x) => x && typeof x === "object") : sel && typeof sel === "object" ? [sel] : [];
    if (alternatives.length === 0) return undefined; // keyword lists: not covered
    for (const alt of alternatives.slice(0, 1)) {
      const fields: HitRule["selections"][number] = {};
      for (const [key, value] of Object.entries(alt as Record<string, unknown>)) {
        const [field, ...mods] = key.split("|");
        if (!field || mods.some((m) => !KNOWN_MODS.has(m))) return undefined;
        (fields[field] ??= []).push({ mods, values: Array.isArray(value) ? value : [value] });
      }
      selections.push(fields);
    }
  }
  if (selections.length === 0) return undefined;
  return { id: String(doc.id ?? doc.title), title: String(doc.title ?? doc.id), make, selections };
}

const PREFIX_FOR: Record<string, string> = {
  Image: "C:\\Windows\\System32", ParentImage: "C:\\Windows", NewProcessName: "C:\\Windows\\System32", ImageLoaded: "C:\\Windows\\System32",
  TargetFilename: "C:\\Users\\Public", TargetObject: "HKLM\\SOFTWARE",
};

const TEXT_FIELDS = /CommandLine$|^ScriptBlockText$|^Payload$|^Details$/;

/** Expands Sigma wildcards into plain text and applies the value-changing modifiers. */
function literal(r: Rng, v: unknown, mods: string[]): string {
  let s = String(v).replace(/\*/g, () => pick(r, ["x", "tmp", "2024"])).replace(/\?/g, "a");
  if (mods.includes("base64") || mods.includes("base64offset")) s = Buffer.from(s).toString("base64").replace(/=+$/, "");
  if (mods.includes("windash") && chance(r, 0.5)) s = s.replace(/^-/, "/");
  return s;
}

/**
 * A value that satisfies every constraint on one field: an exact value when there is one, otherwise
 * start + contained pieces + end. undefined: leave the field out (`|exists: false`, `null`).
 */
export function valueFor(r: Rng, field: string, constraints: Constraint[]): unknown {
  let start: string | undefined, end: string | undefined, exact: unknown;
  const middle: string[] = [];
  let cased = false;
  for (const { mods, values } of constraints) {
    const has = (m: string) => mods.includes(m);
    if (has("cased")) cased = true;
    if (has("exists")) { if (values[0] === false) return undefined; exact ??= "present"; continue; }
    if (has("gt") || has("gte") || has("lt") || has("lte")) {
      const n = Number(values[0]);
      exact = has("gt") ? n + 1 : has("lt") ? n - 1 : n;
      continue;
    }
    if (has("cidr")) {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(String(values[0]));
      exact = m ? `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 1}` : undefined;
      continue;
    }
    const chosen = has("all") ? values : [pick(r, values)];
    if (chosen.some((v) => v === null)) return undefined;
    if (has("contains")) middle.push(...chosen.map((v) => literal(r, v, mods)));
    else if (has("startswith")) start = literal(r, chosen[0], mods);
    else if (has("endswith")) end = literal(r, chosen[0], mods);
    else exact = typeof chosen[0] === "number" ? chosen[0] : literal(r, chosen[0], mods);
  }
  if (exact !== undefined) return exact;
  const text = TEXT_FIELDS.test(field);
  let s = start ?? (text ? "cmd.exe /c" : PREFIX_FOR[field] ?? "C:\\ProgramData\\app");
  for (const m of middle) s += (text ? " " : "\\") + m;
  if (end !== undefined) s += /^[\\. ]/.test(end) || text ? end : `\\${end}`;
  else if (!start && text) s += " 2>&1";
  // Sigma matches case-insensitively unless |cased: vary the case now and then.
  if (!cased && chance(r, 0.2)) s = chance(r, 0.5) ? s.toUpperCase() : s.toLowerCase();
  return s;
}

function hitEvent(c: Ctx, rule: HitRule): WinEvent {
  const e = rule.make(c);
  const data = { ...e.data };
  let eventId = e.eventId, channel = e.channel, provider = e.provider;
  for (const sel of rule.selections) {
    for (const [field, constraints] of Object.entries(sel)) {
      const v = valueFor(c.r, field, constraints);
      if (field === "EventID") { if (typeof v === "number" || /^\d+$/.test(String(v))) eventId = Number(v); continue; }
      if (field === "Channel") { channel = String(v); continue; }
      if (field === "Provider_Name") { provider = String(v); continue; }
      if (v === undefined) delete data[field];
      else data[field] = v;
    }
  }
  // A service-based rule without an EventID still needs one for a realistic document.
  return { channel, provider, eventId: eventId || 1, data };
}

/** Every Windows rule under DIR this generator can build a hit for. */
export function loadHitRules(dir: string): HitRule[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) files.push(p);
    }
  };
  walk(dir);
  const rules: HitRule[] = [];
  for (const f of files) {
    try {
      const rule = hitRuleFrom(YAML.parse(readFileSync(f, "utf8")));
      if (rule) rules.push(rule);
    } catch {
      // Unreadable rules are the compiler's business; here they are simply not used.
    }
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------------
// The whole stream.

export interface GenOptions {
  count: number;
  seed: string;
  since: Date;
  until: Date;
  hitRate: number;
  rules: HitRule[];
}

export interface Generated {
  doc: Doc;
  /** The rule the event was built for, when it is a hit. */
  hit?: { id: string; title: string };
}

function untidy(r: Rng, data: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(data);
  if (keys.length && chance(r, 0.05)) delete data[pick(r, keys)]; // a missing field
  if (keys.length && chance(r, 0.03)) data[pick(r, keys)] = ""; // an empty one
  if (chance(r, 0.02)) {
    // A one-element array where a string is expected (some shippers and reindexers produce these).
    const k = pick(r, keys.filter((x) => typeof data[x] === "string"));
    if (k) data[k] = [data[k]];
  }
  return data;
}

export function* generate(o: GenOptions): Generator<Generated> {
  const r = rngFrom(o.seed);
  const span = o.until.getTime() - o.since.getTime();
  const records = new Map<string, number>();
  for (let i = 0; i < o.count; i++) {
    // Evenly spread, increasing timestamps with jitter inside each slot.
    const t = new Date(o.since.getTime() + Math.floor(((i + r()) * span) / o.count));
    const computer = pick(r, COMPUTERS);
    const c: Ctx = { r, computer, user: chance(r, 0.7) ? pick(r, HUMANS) : pick(r, USERS), time: t.toISOString() };
    let hit: HitRule | undefined;
    if (o.rules.length && chance(r, o.hitRate)) hit = pick(r, o.rules);
    const e = hit ? hitEvent(c, hit) : ordinaryEvent(c);
    const recKey = `${computer}|${e.channel}`;
    const recordId = (records.get(recKey) ?? int(r, 1000, 900000)) + 1;
    records.set(recKey, recordId);
    const doc: Doc = {
      "@timestamp": c.time,
      event: { code: String(e.eventId), kind: "event", provider: e.provider },
      winlog: {
        event_id: chance(r, 0.15) ? String(e.eventId) : e.eventId,
        channel: e.channel,
        provider_name: e.provider,
        computer_name: chance(r, 0.05) ? computer.toUpperCase() : computer,
        record_id: num(r, recordId),
        event_data: hit ? e.data : untidy(r, e.data),
      },
      host: { name: computer.split(".")[0]!.toLowerCase() },
      agent: { type: "winlogbeat", version: pick(r, ["7.17.18", "8.13.4"]) },
    };
    if (chance(r, 0.3)) doc.tags = chance(r, 0.9) ? ["beats_input_codec_plain_applied"] : "forwarded";
    if (chance(r, 0.1)) doc.event.created = new Date(t.getTime() + int(r, 50, 5000)).toISOString();
    yield { doc, hit: hit ? { id: hit.id, title: hit.title } : undefined };
  }
}

// ---------------------------------------------------------------------------------------------------
// Command line.

const DEFAULT_UNTIL = "2025-06-01T00:00:00.000Z";

/** ISO time, or a duration (30d, 12h, 15m) back from now. */
function parseTime(s: string, flag: string): Date {
  const m = /^(\d+)([dhms])$/.exec(s);
  if (m) return new Date(Date.now() - Number(m[1]) * { d: 86400e3, h: 3600e3, m: 60e3, s: 1e3 }[m[2] as "d"]);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new Error(`${flag} ${s}: expected an ISO-8601 time or a duration like 30d, 12h, 15m`);
  return d;
}

function usage(): never {
  process.stderr.write(readFileSync(import.meta.path, "utf8").split("\n").slice(8, 10).map((l) => l.replace(/^ \*\s?/, "")).join("\n") + "\n");
  process.exit(2);
}

export function main(argv: string[]): number {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") usage();
    if (!a.startsWith("--") || i + 1 >= argv.length) {
      process.stderr.write(`gen-events: unexpected argument ${a}\n`);
      usage();
    }
    args[a.slice(2)] = argv[++i]!;
  }
  const known = new Set(["count", "seed", "out", "since", "until", "rules", "hit-rate", "hits"]);
  for (const k of Object.keys(args)) if (!known.has(k)) { process.stderr.write(`gen-events: unknown flag --${k}\n`); usage(); }
  const count = Number(args.count ?? 100_000);
  const hitRate = Number(args["hit-rate"] ?? 0.05);
  if (!Number.isInteger(count) || count < 0) throw new Error(`--count ${args.count}: expected a whole number`);
  if (!(hitRate >= 0 && hitRate <= 1)) throw new Error(`--hit-rate ${args["hit-rate"]}: expected a number from 0 to 1`);
  const until = parseTime(args.until ?? (args.since && /^\d+[dhms]$/.test(args.since) ? "0s" : DEFAULT_UNTIL), "--until");
  const since = args.since ? parseTime(args.since, "--since") : new Date(until.getTime() - 86400e3);
  if (since >= until) throw new Error(`--since must be before --until`);
  const defaultRules = path.resolve(import.meta.dir, "../../shared/sigma/rules/windows");
  const rulesDir = args.rules ?? (existsSync(defaultRules) ? defaultRules : undefined);
  if (args.rules && !existsSync(args.rules)) throw new Error(`--rules ${args.rules}: no such folder`);
  const rules = rulesDir ? loadHitRules(rulesDir) : [];
  const lines: string[] = [];
  const hits: string[] = [];
  let n = 0;
  for (const g of generate({ count, seed: args.seed ?? "outliers", since, until, hitRate, rules })) {
    lines.push(JSON.stringify(g.doc));
    if (g.hit) hits.push(JSON.stringify({ line: n + 1, rule_id: g.hit.id, title: g.hit.title }));
    n++;
  }
  const text = lines.length ? lines.join("\n") + "\n" : "";
  if (args.out) writeFileSync(args.out, text);
  else process.stdout.write(text);
  if (args.hits) writeFileSync(args.hits, hits.length ? hits.join("\n") + "\n" : "");
  process.stderr.write(`gen-events: ${n} events (${hits.length} built from ${rules.length} usable Sigma rules${rulesDir ? ` in ${rulesDir}` : ", none given"})${args.out ? ` → ${args.out}` : ""}\n`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`gen-events: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
