/**
 * A deterministic, seeded generator of winlogbeat-shaped Windows events (the event shape of docs/contract.md) for
 * tests, demos and benchmarks: Sysmon 1/3/7/11/12/13/14, Security 4688/4624/4625 and PowerShell 4104,
 * with realistic paths and command lines, and the untidiness of real data: mixed case, numbers as
 * strings or numbers, missing fields, empty strings, one-element arrays, unicode, existing `tags`.
 * A fraction is built from rules compiled as `outliers` compiles them (hitFields, from the IR) so
 * that many rules have hits (best effort; the rule ids are listed with --hits).
 *
 *   scripts/gen-events --count 100000 --seed 7 --out events.ndjson [--since ISO|DURATION --until ISO]
 *                      [--rules DIR] [--hit-rate 0.05] [--hits hits.ndjson]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Rule } from "../src/ir/types.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { loadRules } from "../src/rules/load.ts";
import { hitFields, rng } from "../test/helpers/gen-events.ts";

// Randomness: the one seeded PRNG of test/helpers/gen-events.ts, so the same arguments give the same bytes.

export type Rng = () => number;

const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rng, p: number) => r() < p;
const hex = (r: Rng, n: number) => Array.from({ length: n }, () => "0123456789ABCDEF"[int(r, 0, 15)]).join("");
const guid = (r: Rng) => `{${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}}`;

// ---------------------------------------------------------------------------------------------------
// The world the events happen in.

const COMPUTERS = [
  "WS-0142.corp.example.com",
  "WS-0217.corp.example.com",
  "LAPTOP-7QK2M1",
  "DC01.corp.example.com",
  "SRV-SQL02.corp.example.com",
  "FILESRV01.corp.example.com",
  "WS-0388.corp.example.com",
  "KIOSK-ÅRHUS-1",
];
const DOMAIN = "CORP";
const USERS = [
  "jsmith",
  "a.kowalski",
  "mgarcía",
  "Дмитрий.П",
  "李伟",
  "svc_backup",
  "Administrator",
  "j.o'neil",
  "SYSTEM",
  "LOCAL SERVICE",
  "NETWORK SERVICE",
];
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
  {
    image: `${SYS32}\\svchost.exe`,
    cmd: (r) =>
      `${SYS32}\\svchost.exe -k ${pick(r, ["netsvcs", "LocalServiceNetworkRestricted", "DcomLaunch", "RPCSS"])} -p${chance(r, 0.5) ? ` -s ${pick(r, ["Schedule", "BITS", "wuauserv", "Appinfo"])}` : ""}`,
    company: "Microsoft Corporation",
    description: "Host Process for Windows Services",
  },
  {
    image: `${SYS32}\\cmd.exe`,
    cmd: (r, u) =>
      pick(r, [
        `cmd.exe /c dir "C:\\Users\\${u}\\Documents"`,
        `"C:\\Windows\\system32\\cmd.exe" /c echo %PATH%`,
        `cmd /c ipconfig /all`,
        `cmd.exe /c "type C:\\ProgramData\\app\\config.ini"`,
        `cmd.exe /Q /c del /f "C:\\Users\\${u}\\AppData\\Local\\Temp\\~tmp${int(r, 100, 999)}.tmp"`,
      ]),
    company: "Microsoft Corporation",
    description: "Windows Command Processor",
  },
  {
    image: `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
    cmd: (r) =>
      pick(r, [
        "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\inventory.ps1",
        "powershell -nop -c \"Get-Service | Where-Object {$_.Status -eq 'Running'}\"",
        '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -Command Get-ChildItem Env:',
        "powershell.exe Get-Date -Format o",
      ]),
    company: "Microsoft Corporation",
    description: "Windows PowerShell",
  },
  {
    image: "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    cmd: (r) =>
      `"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=${pick(r, ["renderer", "gpu-process", "utility"])} --field-trial-handle=${int(r, 1000, 9999)},i,${int(r, 1e9, 9e9)} /prefetch:${int(r, 1, 8)}`,
    company: "Google LLC",
    description: "Google Chrome",
  },
  {
    image: "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    cmd: (_r, u) =>
      `"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE" /n "C:\\Users\\${u}\\Documents\\Résumé 2024.docx"`,
    company: "Microsoft Corporation",
    description: "Microsoft Word",
  },
  {
    image: "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
    cmd: (_r, u) =>
      `"C:\\Program Files\\Microsoft Office\\Root\\Office16\\EXCEL.EXE" "C:\\Users\\${u}\\Desktop\\отчёт_Q3.xlsx"`,
    company: "Microsoft Corporation",
    description: "Microsoft Excel",
  },
  {
    image: `${SYS32}\\conhost.exe`,
    cmd: () => "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
    company: "Microsoft Corporation",
    description: "Console Window Host",
  },
  {
    image: `${SYS32}\\taskhostw.exe`,
    cmd: () => "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}",
    company: "Microsoft Corporation",
  },
  {
    image: `${SYS32}\\rundll32.exe`,
    cmd: (r) =>
      pick(r, [
        "rundll32.exe C:\\Windows\\system32\\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding",
        "C:\\Windows\\system32\\rundll32.exe C:\\Windows\\System32\\LogiLDA.dll,LogiFetch",
      ]),
    company: "Microsoft Corporation",
    description: "Windows host process (Rundll32)",
  },
  {
    image: `${SYS32}\\msiexec.exe`,
    cmd: () => "C:\\Windows\\system32\\msiexec.exe /V",
    company: "Microsoft Corporation",
  },
  {
    image: "C:\\Program Files\\Notepad++\\notepad++.exe",
    cmd: (_r, u) => `"C:\\Program Files\\Notepad++\\notepad++.exe" "C:\\Users\\${u}\\Desktop\\notes 📝.txt"`,
    company: "Don HO don.h@free.fr",
  },
  {
    image: `${SYS32}\\wbem\\WmiPrvSE.exe`,
    cmd: () => "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
    company: "Microsoft Corporation",
  },
  {
    image: `${SYS32}\\SearchIndexer.exe`,
    cmd: () => "C:\\Windows\\system32\\SearchIndexer.exe /Embedding",
    company: "Microsoft Corporation",
  },
  {
    image: "C:\\Users\\USER\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe",
    cmd: () =>
      '"C:\\Users\\USER\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --type=renderer --autoplay-policy=no-user-gesture-required',
    company: "Microsoft Corporation",
  },
  {
    image: `${SYS32}\\net.exe`,
    cmd: (r) => pick(r, ["net use", "net.exe view \\\\FILESRV01", "net user /domain", "net localgroup administrators"]),
    company: "Microsoft Corporation",
  },
  {
    image: `${SYS32}\\sc.exe`,
    cmd: (r) => `sc.exe query ${pick(r, ["WinDefend", "wuauserv", "Spooler"])}`,
    company: "Microsoft Corporation",
  },
];
const PARENTS = [
  `${SYS32}\\services.exe`,
  "C:\\Windows\\explorer.exe",
  `${SYS32}\\svchost.exe`,
  `${SYS32}\\cmd.exe`,
  `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
  `${SYS32}\\userinit.exe`,
  `${SYS32}\\wininit.exe`,
];
const DLLS = [
  "ntdll.dll",
  "kernel32.dll",
  "KernelBase.dll",
  "advapi32.dll",
  "user32.dll",
  "ws2_32.dll",
  "crypt32.dll",
  "amsi.dll",
  "clr.dll",
  "wininet.dll",
  "dbghelp.dll",
  "samlib.dll",
  "vaultcli.dll",
  "System.Management.Automation.ni.dll",
];
const HOSTS = [
  "www.google.com",
  "login.microsoftonline.com",
  "update.example.com",
  "cdn.jsdelivr.net",
  "dc01.corp.example.com",
  "fileserver",
  "münchen-proxy.corp.example.com",
];
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
  'Write-Host "Sauvegarde terminée ✔"',
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
  return {
    RuleName: chance(c.r, 0.9) ? "-" : "",
    UtcTime: c.time.replace("T", " ").replace("Z", ""),
    ProcessGuid: guid(c.r),
    ProcessId: num(c.r, int(c.r, 4, 20000)),
    ...extra,
  };
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
      channel: SECURITY[0],
      provider: SECURITY[1],
      eventId: 4688,
      data: {
        SubjectUserSid: "S-1-5-18",
        SubjectUserName: `${c.computer.split(".")[0]}$`,
        SubjectDomainName: DOMAIN,
        SubjectLogonId: "0x3e7",
        NewProcessId: `0x${int(r, 0x100, 0xffff).toString(16)}`,
        NewProcessName: image,
        TokenElevationType: "%%1936",
        ProcessId: `0x${int(r, 0x100, 0xffff).toString(16)}`,
        CommandLine: chance(r, 0.1) ? "" : commandLine,
        TargetUserSid: "S-1-0-0",
        TargetUserName: user,
        TargetDomainName: DOMAIN,
        TargetLogonId: `0x${hex(r, 6).toLowerCase()}`,
        ParentProcessName: parent,
        MandatoryLabel: "S-1-16-8192",
      },
    };
  }
  return {
    channel: SYSMON[0],
    provider: SYSMON[1],
    eventId: 1,
    data: sysmonBase(c, {
      Image: image,
      FileVersion: `10.0.${int(r, 17763, 22631)}.${int(r, 1, 3000)} (WinBuild.160101.0800)`,
      Description: p.description ?? "",
      Product: p.product ?? "Microsoft® Windows® Operating System",
      Company: p.company ?? "",
      OriginalFileName: path.win32.basename(p.image).toUpperCase(),
      CommandLine: commandLine,
      CurrentDirectory: casing(r, chance(r, 0.5) ? `${SYS32}\\` : `C:\\Users\\${user}\\`),
      User: `${DOMAIN}\\${user}`,
      LogonGuid: guid(r),
      LogonId: `0x${hex(r, 6).toLowerCase()}`,
      TerminalSessionId: num(r, int(r, 0, 3)),
      IntegrityLevel: pick(r, ["Medium", "High", "System"]),
      Hashes: `SHA1=${hex(r, 40)},MD5=${hex(r, 32)},SHA256=${hex(r, 64)},IMPHASH=${hex(r, 32)}`,
      ParentProcessGuid: guid(r),
      ParentProcessId: num(r, int(r, 4, 20000)),
      ParentImage: parent,
      ParentCommandLine: parent.toLowerCase().endsWith("explorer.exe") ? "C:\\Windows\\Explorer.EXE" : parent,
      ParentUser: `${DOMAIN}\\${user}`,
    }),
  };
}

function networkConnection(c: Ctx): WinEvent {
  const { r, user } = c;
  const p = pick(r, PROCS);
  const outbound = chance(r, 0.85);
  const ipv6 = chance(r, 0.1);
  const dst = ipv6
    ? `2001:db8::${hex(r, 4).toLowerCase()}`
    : chance(r, 0.5)
      ? `10.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`
      : `${int(r, 11, 223)}.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`;
  return {
    channel: SYSMON[0],
    provider: SYSMON[1],
    eventId: 3,
    data: sysmonBase(c, {
      Image: procImage(r, p, user),
      User: `${DOMAIN}\\${user}`,
      Protocol: chance(r, 0.9) ? "tcp" : "udp",
      Initiated: outbound ? "true" : "false",
      SourceIsIpv6: ipv6 ? "true" : "false",
      SourceIp: ipv6 ? "fe80::1" : `10.1.${int(r, 0, 20)}.${int(r, 2, 250)}`,
      SourceHostname: c.computer,
      SourcePort: num(r, int(r, 49152, 65535)),
      SourcePortName: "",
      DestinationIsIpv6: ipv6 ? "true" : "false",
      DestinationIp: dst,
      DestinationHostname: chance(r, 0.2) ? "" : pick(r, HOSTS),
      DestinationPort: num(r, pick(r, [443, 443, 443, 80, 445, 53, 389, 3389, 5985, 8080])),
      DestinationPortName: chance(r, 0.5) ? "https" : "-",
    }),
  };
}

function fileCreate(c: Ctx): WinEvent {
  const { r, user } = c;
  return {
    channel: SYSMON[0],
    provider: SYSMON[1],
    eventId: 11,
    data: sysmonBase(c, {
      Image: procImage(r, pick(r, PROCS), user),
      TargetFilename: casing(r, FILE_TARGETS(r, user)),
      CreationUtcTime: c.time.replace("T", " ").replace("Z", ""),
      User: `${DOMAIN}\\${user}`,
    }),
  };
}

function registry(c: Ctx): WinEvent {
  const { r, user } = c;
  const eventId = pick(r, [12, 13, 13, 13, 14]);
  const key = pick(r, REG_KEYS);
  const data: Record<string, unknown> = {
    EventType:
      eventId === 12 ? pick(r, ["CreateKey", "DeleteValue", "CreateKey"]) : eventId === 13 ? "SetValue" : "RenameKey",
    Image: procImage(r, pick(r, PROCS), user),
    TargetObject: chance(r, 0.1) ? key.toLowerCase() : key,
    User: `${DOMAIN}\\${user}`,
  };
  if (eventId === 13)
    data.Details = pick(r, [
      "DWORD (0x00000001)",
      "DWORD (0x00000000)",
      `"C:\\Users\\${user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background`,
      "Binary Data",
      "QWORD (0x00000000-0x5f5e1000)",
    ]);
  if (eventId === 14) data.NewName = `${key}_old`;
  return { channel: SYSMON[0], provider: SYSMON[1], eventId, data: sysmonBase(c, data) };
}

function imageLoad(c: Ctx): WinEvent {
  const { r, user } = c;
  const dll = pick(r, DLLS);
  const loaded = dll.endsWith(".ni.dll")
    ? `C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\${hex(r, 32).toLowerCase()}\\${dll}`
    : `${SYS32}\\${dll}`;
  return {
    channel: SYSMON[0],
    provider: SYSMON[1],
    eventId: 7,
    data: sysmonBase(c, {
      Image: procImage(r, pick(r, PROCS), user),
      ImageLoaded: casing(r, loaded),
      FileVersion: "10.0.19041.1 (WinBuild.160101.0800)",
      Description: "",
      Product: "Microsoft® Windows® Operating System",
      Company: "Microsoft Corporation",
      OriginalFileName: dll,
      Hashes: `SHA256=${hex(r, 64)}`,
      Signed: "true",
      Signature: "Microsoft Windows",
      SignatureStatus: "Valid",
      User: `${DOMAIN}\\${user}`,
    }),
  };
}

function logon(c: Ctx): WinEvent {
  const { r, user } = c;
  const failed = chance(r, 0.2);
  const logonType = pick(r, [2, 3, 3, 3, 5, 7, 10, 11]);
  const data: Record<string, unknown> = {
    SubjectUserSid: "S-1-5-18",
    SubjectUserName: `${c.computer.split(".")[0]}$`,
    SubjectDomainName: DOMAIN,
    SubjectLogonId: "0x3e7",
    TargetUserSid: failed ? "S-1-0-0" : `S-1-5-21-3623811015-3361044348-30300820-${int(r, 1000, 1200)}`,
    TargetUserName: user,
    TargetDomainName: chance(r, 0.1) ? DOMAIN.toLowerCase() : DOMAIN,
    LogonType: num(r, logonType),
    LogonProcessName: logonType === 3 ? "NtLmSsp " : "User32 ",
    AuthenticationPackageName: pick(r, ["NTLM", "Negotiate", "Kerberos"]),
    WorkstationName: chance(r, 0.2) ? "-" : pick(r, COMPUTERS).split(".")[0],
    ProcessId: "0x0",
    ProcessName: "-",
    IpAddress: chance(r, 0.1) ? "-" : `10.1.${int(r, 0, 20)}.${int(r, 2, 250)}`,
    IpPort: num(r, chance(r, 0.3) ? 0 : int(r, 49152, 65535)),
  };
  if (failed)
    Object.assign(data, {
      Status: "0xc000006d",
      SubStatus: pick(r, ["0xc000006a", "0xc0000064", "0xc0000072"]),
      FailureReason: "%%2313",
    });
  else
    Object.assign(data, {
      TargetLogonId: `0x${hex(r, 6).toLowerCase()}`,
      LogonGuid: guid(r),
      ElevatedToken: pick(r, ["%%1842", "%%1843"]),
      ImpersonationLevel: "%%1833",
      KeyLength: num(r, 0),
    });
  return { channel: SECURITY[0], provider: SECURITY[1], eventId: failed ? 4625 : 4624, data };
}

function scriptBlock(c: Ctx): WinEvent {
  const { r } = c;
  const text = pick(r, PS_BLOCKS);
  return {
    channel: POWERSHELL[0],
    provider: POWERSHELL[1],
    eventId: 4104,
    data: {
      MessageNumber: num(r, 1),
      MessageTotal: num(r, 1),
      ScriptBlockText: text,
      ScriptBlockId: guid(r).slice(1, -1).toLowerCase(),
      Path: chance(r, 0.6) ? "" : `C:\\Scripts\\${pick(r, ["inventory", "cleanup", "ad-report"])}.ps1`,
    },
  };
}

const KINDS: Array<[number, (c: Ctx) => WinEvent]> = [
  [30, processCreation],
  [15, networkConnection],
  [12, fileCreate],
  [12, registry],
  [15, imageLoad],
  [10, logon],
  [6, scriptBlock],
];
const KIND_TOTAL = KINDS.reduce((s, [w]) => s + w, 0);

function ordinaryEvent(c: Ctx): WinEvent {
  let x = c.r() * KIND_TOTAL;
  for (const [w, make] of KINDS) if ((x -= w) < 0) return make(c);
  return processCreation(c);
}

// ---------------------------------------------------------------------------------------------------
// Rule hits: an ordinary event of the rule's logsource with the fields that make its compiled
// condition hold (hitFields of test/helpers/gen-events.ts, from the rule representation).

/** The ordinary event a hit starts from, by Sigma logsource category (else by the fields the hit sets). */
const CATEGORY_MAKERS: Record<string, (c: Ctx) => WinEvent> = {
  process_creation: processCreation,
  network_connection: networkConnection,
  file_event: fileCreate,
  registry_set: (c) => withId(registry(c), 13),
  registry_add: (c) => withId(registry(c), 12),
  registry_delete: (c) => withId(registry(c), 12),
  registry_event: registry,
  image_load: imageLoad,
  ps_script: scriptBlock,
};

function withId(e: WinEvent, id: number): WinEvent {
  return { ...e, eventId: id };
}

const EVENT_DATA = "winlog.event_data.";

/** Channel (0) and provider (1) names as Windows writes them (a caseless rule may give "security"). */
const SOURCES: [string, string][] = [SYSMON, SECURITY, POWERSHELL, ["System", "Service Control Manager"]];
function canonical(name: string, at: 0 | 1): string {
  return SOURCES.find((x) => x[at].toLowerCase() === name.toLowerCase())?.[at] ?? name;
}

/** The event `rule` is built to hit; fields outside winlog.event_data land at their dotted path in `extra`. */
function hitEvent(c: Ctx, rule: Rule): { e: WinEvent; extra: Map<string, unknown> } {
  const fields = hitFields(c.r, rule);
  const wanted = Number(fields.get("winlog.event_id") ?? fields.get("event.code") ?? 0);
  const make: ((c: Ctx) => WinEvent) | undefined = CATEGORY_MAKERS[rule.logsource.category ?? ""];
  let base: WinEvent = { channel: "", provider: "", eventId: 0, data: {} };
  if (make) {
    // The base event of the source the hit chose (process_creation: Sysmon 1 or Security 4688).
    base = make(c);
    for (let k = 0; k < 8 && wanted && base.eventId !== wanted; k++) base = make(c);
  }
  const data: Record<string, unknown> = { ...base.data };
  let { channel, provider, eventId } = base;
  const extra = new Map<string, unknown>();
  for (const [name, v] of fields) {
    if (name === "winlog.channel") channel = canonical(String(v), 0);
    else if (name === "winlog.provider_name") provider = canonical(String(v), 1);
    else if (name === "winlog.event_id" || name === "event.code") {
      if (/^\d+$/.test(String(v))) eventId = Number(v);
    } else if (name.startsWith(EVENT_DATA)) data[name.slice(EVENT_DATA.length)] = v;
    else extra.set(name, v);
  }
  // A rule without a channel or an event id still needs them for a realistic document.
  return {
    e: { channel: channel || SECURITY[0], provider: provider || SECURITY[1], eventId: eventId || 1, data },
    extra,
  };
}

/** Sets `value` at a dotted path of `doc` unless a non-object value is in the way. */
function setPath(doc: Record<string, unknown>, name: string, value: unknown): void {
  const parts = name.split(".");
  let cur = doc;
  for (const k of parts.slice(0, -1)) {
    const next = cur[k];
    if (next === undefined) cur = cur[k] = {} as Record<string, unknown>;
    else if (typeof next === "object" && next !== null && !Array.isArray(next)) cur = next as Record<string, unknown>;
    else return;
  }
  cur[parts[parts.length - 1]!] = value;
}

/**
 * The Windows rules under DIR (Sigma and ee-outliers files, compiled with the winlogbeat profile, as
 * `outliers` compiles them) this generator can build hits for: those whose condition holds for some
 * event (not a bare negation or constant false).
 */
export function loadHitRules(dir: string): Rule[] {
  return loadRules([dir], { profile: loadProfile("winlogbeat") })
    .flatMap((res) => (res.status === "ok" ? [res.rule] : []))
    .filter((r) => r.logsource.product === "windows" && r.condition.kind !== "const");
}

// ---------------------------------------------------------------------------------------------------
// The whole stream.

export interface GenOptions {
  count: number;
  seed: string;
  since: Date;
  until: Date;
  hitRate: number;
  rules: Rule[];
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
    const k = pick(
      r,
      keys.filter((x) => typeof data[x] === "string"),
    );
    if (k) data[k] = [data[k]];
  }
  return data;
}

export function* generate(o: GenOptions): Generator<Generated> {
  const r = rng(o.seed);
  const span = o.until.getTime() - o.since.getTime();
  const records = new Map<string, number>();
  for (let i = 0; i < o.count; i++) {
    // Evenly spread, increasing timestamps with jitter inside each slot.
    const t = new Date(o.since.getTime() + Math.floor(((i + r()) * span) / o.count));
    const computer = pick(r, COMPUTERS);
    const c: Ctx = { r, computer, user: chance(r, 0.7) ? pick(r, HUMANS) : pick(r, USERS), time: t.toISOString() };
    let hit: Rule | undefined;
    if (o.rules.length && chance(r, o.hitRate)) hit = pick(r, o.rules);
    const built = hit ? hitEvent(c, hit) : { e: ordinaryEvent(c), extra: new Map<string, unknown>() };
    const e = built.e;
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
    for (const [name, v] of built.extra) setPath(doc as unknown as Record<string, unknown>, name, v);
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
  if (Number.isNaN(d.getTime()))
    throw new Error(`${flag} ${s}: expected an ISO-8601 time or a duration like 30d, 12h, 15m`);
  return d;
}

function usage(): never {
  process.stderr.write(
    readFileSync(import.meta.path, "utf8")
      .split("\n")
      .slice(8, 10)
      .map((l) => l.replace(/^ \*\s?/, ""))
      .join("\n") + "\n",
  );
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
  for (const k of Object.keys(args))
    if (!known.has(k)) {
      process.stderr.write(`gen-events: unknown flag --${k}\n`);
      usage();
    }
  const count = Number(args.count ?? 100_000);
  const hitRate = Number(args["hit-rate"] ?? 0.05);
  if (!Number.isInteger(count) || count < 0) throw new Error(`--count ${args.count}: expected a whole number`);
  if (!(hitRate >= 0 && hitRate <= 1)) throw new Error(`--hit-rate ${args["hit-rate"]}: expected a number from 0 to 1`);
  const until = parseTime(
    args.until ?? (args.since && /^\d+[dhms]$/.test(args.since) ? "0s" : DEFAULT_UNTIL),
    "--until",
  );
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
  process.stderr.write(
    `gen-events: ${n} events (${hits.length} built from ${rules.length} usable rules${rulesDir ? ` in ${rulesDir}` : ", none given"})${args.out ? ` → ${args.out}` : ""}\n`,
  );
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
