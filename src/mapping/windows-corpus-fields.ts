/**
 * The Sigma field names (System fields such as EventID/Channel/Provider_Name left out) that the
 * SigmaHQ corpus's Windows rules use in their detections, per logsource: `category:<name>`,
 * `service:<name>`, and `windows` for rules naming neither.
 *
 * This is a frozen snapshot taken from ../shared/sigma/rules* when the profiles were written (it
 * must not depend on the corpus being present at run time). It fixes what a Sigma keyword (a value
 * with no field) searches: the profile maps these names like any other field and adds `message`
 * (see keywordFields in windows-profile.ts). Adding a field here widens keyword search for that
 * logsource on both the query and the ingest side alike, since both read the same list.
 */
export const CORPUS_FIELDS: Record<string, readonly string[]> = {
  "category:create_remote_thread": [
    "SourceCommandLine", "SourceImage", "SourceParentImage", "StartAddress", "StartFunction",
    "StartModule", "TargetImage", "TargetParentProcessId",
  ],
  "category:create_stream_hash": [
    "Contents", "Hash", "Image", "TargetFilename",
  ],
  "category:dns_query": [
    "Image", "QueryName",
  ],
  "category:driver_load": [
    "Hashes", "ImageLoaded",
  ],
  "category:file_access": [
    "FileName", "Image", "ParentImage",
  ],
  "category:file_change": [
    "CreationUtcTime", "Image", "PreviousCreationUtcTime", "TargetFilename",
  ],
  "category:file_delete": [
    "Image", "TargetFilename", "User",
  ],
  "category:file_event": [
    "CommandLine", "CreationUtcTime", "Image", "IntegrityLevel", "ParentCommandLine", "ParentImage",
    "TargetFilename", "User",
  ],
  "category:file_executable_detected": [
    "TargetFilename",
  ],
  "category:file_rename": [
    "Image", "SourceFilename", "TargetFilename",
  ],
  "category:image_load": [
    "CommandLine", "Company", "Description", "FileVersion", "Hashes", "Image", "ImageLoaded",
    "OriginalFileName", "Product", "Signature", "SignatureStatus", "Signed",
  ],
  "category:network_connection": [
    "CommandLine", "DestinationHostname", "DestinationIp", "DestinationIsIpv6", "DestinationPort",
    "Image", "Initiated", "ParentImage", "Protocol", "SourceHostname", "SourceIp", "SourceIsIpv6",
    "SourcePort", "User",
  ],
  "category:pipe_created": [
    "Image", "PipeName",
  ],
  "category:process_access": [
    "CallTrace", "GrantedAccess", "SourceCommandLine", "SourceImage", "SourceUser", "TargetImage",
  ],
  "category:process_creation": [
    "CommandLine", "Company", "CurrentDirectory", "Description", "FileVersion", "GrandParentImage",
    "Hashes", "Image", "IntegrityLevel", "LogonId", "OriginalFileName", "ParentCommandLine",
    "ParentImage", "ParentUser", "Product", "User",
  ],
  "category:process_tampering": [
    "Image", "Type",
  ],
  "category:ps_classic_provider_start": [
    "Data",
  ],
  "category:ps_classic_start": [
    "Data",
  ],
  "category:ps_module": [
    "ContextInfo", "Payload",
  ],
  "category:ps_script": [
    "Path", "ScriptBlockText",
  ],
  "category:raw_access_thread": [
    "Device", "Image",
  ],
  "category:registry_add": [
    "EventType", "TargetObject",
  ],
  "category:registry_delete": [
    "EventType", "Image", "TargetObject",
  ],
  "category:registry_event": [
    "Details", "EventType", "Image", "NewName", "TargetObject",
  ],
  "category:registry_set": [
    "Details", "Image", "TargetObject", "User",
  ],
  "category:sysmon_error": [
    "Description",
  ],
  "category:sysmon_status": [
    "State",
  ],
  "category:wmi_event": [
    "Destination",
  ],
  "service:application": [
    "AppName", "AppVersion", "Data", "ExceptionCode", "ModuleName",
  ],
  "service:applocker": [
  ],
  "service:appmodel-runtime": [
    "ImageName",
  ],
  "service:appxdeployment-server": [
    "CallingProcess", "ErrorCode", "Flags", "HasFullTrust", "PackageFullName", "PackageSourceUri",
    "Path",
  ],
  "service:appxpackaging-om": [
    "subjectName",
  ],
  "service:bits-client": [
    "LocalName", "RemoteName", "processPath",
  ],
  "service:capi2": [
  ],
  "service:certificateservicesclient-lifecycle-system": [
  ],
  "service:codeintegrity-operational": [
    "FileNameBuffer", "ProcessNameBuffer", "RequestedPolicy",
  ],
  "service:diagnosis-scripted": [
    "PackagePath",
  ],
  "service:dns-client": [
    "QueryName",
  ],
  "service:dns-server": [
  ],
  "service:dns-server-analytic": [
    "QNAME",
  ],
  "service:driver-framework": [
  ],
  "service:firewall-as": [
    "Action", "ApplicationPath", "ModifyingApplication",
  ],
  "service:iis-configuration": [
    "Configuration", "NewValue", "OldValue",
  ],
  "service:ldap": [
    "DistinguishedName", "SearchFilter",
  ],
  "service:lsa-server": [
    "SidList", "TargetUserSid",
  ],
  "service:microsoft-servicebus-client": [
  ],
  "service:msexchange-management": [
    "Data",
  ],
  "service:ntlm": [
    "TargetName", "WorkstationName",
  ],
  "service:openssh": [
    "payload", "process",
  ],
  "service:powershell-classic": [
    "Data",
  ],
  "service:printservice-admin": [
    "ErrorCode",
  ],
  "service:printservice-operational": [
  ],
  "service:security": [
    "AccessList", "AccessMask", "AdditionalInfo", "AllowedToDelegateTo", "Application",
    "AttributeLDAPDisplayName", "AttributeValue", "Attributes", "AuditPolicyChanges",
    "AuditSourceName", "AuthenticationPackageName", "CallerProcessName", "CertThumbprint",
    "ClassName", "ClientProcessId", "DestAddress", "DestPort", "DeviceDescription", "FileName",
    "FilterName", "FilterOrigin", "ImpersonationLevel", "IpAddress", "IpPort", "KeyLength",
    "LayerRTID", "LogonProcessName", "LogonType", "NewTargetUserName", "NewTemplateContent",
    "NewUacValue", "NewValue", "ObjectClass", "ObjectDN", "ObjectName", "ObjectServer",
    "ObjectType", "ObjectValueName", "OldTargetUserName", "OldUacValue", "ParentProcessId",
    "PasswordLastSet", "PreAuthType", "PrivilegeList", "ProcessName", "Properties",
    "ProviderContextName", "RelativeTargetName", "SamAccountName", "Service", "ServiceFileName",
    "ServiceName", "ServicePrincipalNames", "ServiceStartType", "ServiceType", "ShareLocalPath",
    "ShareName", "SidHistory", "SourceAddress", "SourcePort", "Status", "SubStatus",
    "SubcategoryGuid", "SubjectAccountName", "SubjectDomainName", "SubjectLogonId",
    "SubjectUserName", "SubjectUserSid", "TargetInfo", "TargetLogonId", "TargetName",
    "TargetOutboundUserName", "TargetServerName", "TargetSid", "TargetUserName", "TargetUserSid",
    "TaskContent", "TaskContentNew", "TaskName", "TemplateContent", "TicketEncryptionType",
    "TicketOptions", "Workstation", "WorkstationName", "param1",
  ],
  "service:security-mitigations": [
    "ImageName", "ProcessPath",
  ],
  "service:shell-core": [
    "AppID", "Name",
  ],
  "service:smbclient-connectivity": [
    "Address", "RemoteAddress", "ServerAddress",
  ],
  "service:smbclient-security": [
    "ServerName", "UserName",
  ],
  "service:smbserver-connectivity": [
    "ClientAddress", "EncyptionUsed", "ShareName", "SigningUsed",
  ],
  "service:sysmon": [
  ],
  "service:system": [
    "AccountName", "Binary", "Caption", "Description", "DeviceName", "HiveName", "ImagePath",
    "IsatapRouter", "Origin", "ProcessId", "ServiceName", "param1", "param2", "param3",
  ],
  "service:taskscheduler": [
    "Path", "TaskName", "UserName",
  ],
  "service:terminalservices-localsessionmanager": [
    "Address",
  ],
  "service:windefend": [
    "Feature_Name", "NewValue", "OldValue", "Path", "ProcessName", "Reason", "SourceName",
    "ThreatName", "Value",
  ],
  "service:wmi": [
    "Operation", "PossibleCause", "Provider", "Query", "User",
  ],
  "windows": [
  ],
};
