// Azure's Instance Metadata Service (IMDS), as Microsoft documents it, at
// 169.254.169.254/metadata/instance:
// - the header `Metadata: true` is required and `X-Forwarded-For` refused
//   (400 either way); `api-version` is required and must be a published one
//   (400 otherwise, listing the newest versions);
// - JSON by default; a leaf node needs `format=text` (400 otherwise);
// - while the VM is being provisioned the service answers 404, 410 or 429 —
//   scenarios `imds-404-twice`, `imds-410-twice`, `imds-429-twice` answer the
//   first two requests that way;
// - `compute/userData` is the base64 of the user data ("" when none);
// - scenario `ovf-only`: no user data in IMDS, the config only on the OVF
//   provisioning media (see clouds.ts); `crlf-keys`: keyData ends in CR LF,
//   as keys pasted from some tools do.
// With it, the WireServer at 168.63.129.16 (azure-wireserver.ts).

import { blobService, identityToken } from "./azure-blob";
import { LAB_IDS, WIRESERVER, wireServer } from "./azure-wireserver";
import { DEFAULT_HOSTNAME, parse, send, sendJson, type CloudOptions, type FakeCloud, type Handler } from "./service";

export const API_VERSIONS = ["2017-03-01", "2017-04-02", "2017-08-01", "2017-12-01", "2018-02-01", "2018-04-02", "2018-10-01", "2019-02-01", "2019-03-11", "2019-04-30", "2019-06-01", "2019-06-04", "2019-08-01", "2019-08-15", "2019-11-01", "2020-06-01", "2020-07-15", "2020-09-01", "2020-10-01", "2020-12-01", "2021-01-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-10-01", "2021-11-01", "2021-11-15", "2021-12-13", "2022-02-01", "2022-03-01", "2022-07-01", "2022-08-01", "2022-09-01", "2022-11-01", "2023-07-01"];

export function azure(options: CloudOptions): FakeCloud {
  const name = options.hostname ?? DEFAULT_HOSTNAME;
  const keyData = options.sshKey && (options.scenario === "crlf-keys" ? `${options.sshKey}\r\n` : options.sshKey);
  const userData = options.scenario === "ovf-only" || !options.userdata ? "" : options.userdata.toString("base64");
  const instance = {
    compute: {
      azEnvironment: "AzurePublicCloud",
      location: "westeurope",
      name,
      osType: "Linux",
      osProfile: { adminUsername: "core", computerName: name, disablePasswordAuthentication: "true" },
      publicKeys: keyData ? [{ keyData, path: "/home/core/.ssh/authorized_keys" }] : [],
      resourceGroupName: "flint-lab",
      subscriptionId: "00000000-0000-0000-0000-000000000000",
      userData,
      vmId: "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
      vmSize: "Standard_B1s",
    },
    network: { interface: [] },
  };
  const busy = /^imds-(404|410|429)-twice$/.exec(options.scenario ?? "");
  let busyLeft = busy ? 2 : 0;

  const handler: Handler = (req, res) => {
    const { path, query } = parse(req);
    // The managed identity's tokens: fakes/azure-blob.ts.
    if (path === "/metadata/identity/oauth2/token") return identityToken(req, res, query, options.scenario);
    if (req.headers["metadata"] !== "true") return sendJson400(res, "Bad request. Required metadata header not specified");
    if (req.headers["x-forwarded-for"]) return sendJson400(res, "Bad request. Requests containing X-Forwarded-For header are not allowed");
    const version = query.get("api-version");
    if (!version) return sendJson400(res, "Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds", true);
    if (!API_VERSIONS.includes(version)) return sendJson400(res, "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds", true);
    if (busyLeft > 0) {
      busyLeft--;
      const status = Number(busy![1]);
      return send(res, status, status === 429 ? "Too many requests\n" : status === 410 ? "Gone\n" : "Not Found\n");
    }
    if (!path.startsWith("/metadata/instance")) return send(res, 404, "Not Found\n");
    let node: unknown = instance;
    for (const part of path.slice("/metadata/instance".length).split("/").filter(Boolean)) {
      node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
      if (node === undefined) return send(res, 404, "Not Found\n");
    }
    const leaf = typeof node !== "object" || node === null;
    const format = query.get("format") ?? "json";
    if (leaf && format !== "text") return sendJson400(res, "Bad request. format=json is not supported for leaf nodes; use format=text");
    if (format === "text") return send(res, 200, leaf ? String(node) : Object.keys(node as object).join("\n"));
    sendJson(res, node);
  };
  const blob = blobService(options);
  // The WireServer, where the VM reports its health (azure-wireserver.ts).
  return {
    addresses: ["169.254.169.254/32", `${WIRESERVER}/32`, ...blob.addresses],
    listeners: [{ address: "169.254.169.254", port: 80, handler }, wireServer(LAB_IDS), ...blob.listeners],
  };
}

function sendJson400(res: import("node:http").ServerResponse, error: string, withVersions = false): void {
  res.writeHead(400, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(withVersions ? { error, "newest-versions": API_VERSIONS.slice(-3).reverse() } : { error }));
}

/** `ovf-env.xml` as Azure writes it on the provisioning media, with the custom data in base64. */
export function ovfEnvironment(options: CloudOptions): string {
  const name = options.hostname ?? DEFAULT_HOSTNAME;
  const custom = options.userdata ? `<ns1:CustomData>${options.userdata.toString("base64")}</ns1:CustomData>` : "";
  const key = options.sshKey ? `<ns1:SSH><ns1:PublicKeys><ns1:PublicKey><ns1:Fingerprint>0000</ns1:Fingerprint><ns1:Path>/home/core/.ssh/authorized_keys</ns1:Path><ns1:Value>${escapeXml(options.sshKey)}</ns1:Value></ns1:PublicKey></ns1:PublicKeys></ns1:SSH>` : "";
  return `<?xml version="1.0" encoding="utf-8"?>
<ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" xmlns:ns1="http://schemas.microsoft.com/windowsazure" xmlns:ns2="http://www.w3.org/2001/XMLSchema-instance">
<ns1:ProvisioningSection><ns1:Version>1.0</ns1:Version><ns1:LinuxProvisioningConfigurationSet><ns1:ConfigurationSetType>LinuxProvisioningConfiguration</ns1:ConfigurationSetType><ns1:HostName>${escapeXml(name)}</ns1:HostName><ns1:UserName>core</ns1:UserName><ns1:DisableSshPasswordAuthentication>true</ns1:DisableSshPasswordAuthentication>${key}${custom}</ns1:LinuxProvisioningConfigurationSet></ns1:ProvisioningSection>
<ns1:PlatformSettingsSection><ns1:Version>1.0</ns1:Version><ns1:PlatformSettings><ns1:KmsServerHostname>kms.core.windows.net</ns1:KmsServerHostname><ns1:ProvisionGuestAgent>false</ns1:ProvisionGuestAgent><ns1:GuestAgentPackageName xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" /></ns1:PlatformSettings></ns1:PlatformSettingsSection>
</ns0:Environment>
`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
