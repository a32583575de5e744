// OpenStack Nova's metadata service and config drive contents, as the Nova
// documentation describes them: `/openstack/<version>/meta_data.json`
// (`uuid`, `name`, `hostname`, `public_keys` as name → key, `keys`),
// `/openstack/<version>/user_data` (404 when the instance has none), the
// version list at `/openstack/`. Served at 169.254.169.254 (IPv4) and at
// fe80::a9fe:a9fe (IPv6-only networks).
// Scenarios (see clouds.ts for the drives): `drive-only` = no metadata
// service, a vfat drive labelled CONFIG-2; `drive-iso` = an iso9660 drive
// labelled config-2 and the service; `ipv6-only` = the service only at
// fe80::a9fe:a9fe (a network without IPv4); default = the service, no drive.

import { DEFAULT_HOSTNAME, notFound, parse, send, sendJson, type CloudOptions, type FakeCloud, type Handler } from "./service";

const VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest"];

export function metaData(options: CloudOptions): Record<string, unknown> {
  const name = options.hostname ?? DEFAULT_HOSTNAME;
  return {
    uuid: "83679162-1378-4288-a2d4-70e13ec132aa",
    name,
    hostname: `${name}.novalocal`,
    launch_index: 0,
    availability_zone: "nova",
    project_id: "f7ac731cc11f40efbc03a9f9e1d1d21f",
    public_keys: options.sshKey ? { "flint-lab": options.sshKey } : {},
    keys: options.sshKey ? [{ name: "flint-lab", type: "ssh", data: options.sshKey }] : [],
    meta: {},
  };
}

/** The files of a config drive: `openstack/<version>/{meta_data.json,user_data}`. */
export function driveFiles(options: CloudOptions): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {};
  for (const version of VERSIONS) {
    files[`openstack/${version}/meta_data.json`] = JSON.stringify(metaData(options));
    if (options.userdata) files[`openstack/${version}/user_data`] = options.userdata;
  }
  return files;
}

export function openstack(options: CloudOptions): FakeCloud {
  if (options.scenario === "drive-only") return { addresses: [], listeners: [] };
  const handler: Handler = (req, res) => {
    const { path } = parse(req);
    if (path === "/openstack" || path === "/openstack/") return send(res, 200, VERSIONS.join("\n"));
    const match = /^\/openstack\/([^/]+)\/(meta_data\.json|user_data)$/.exec(path);
    if (!match || !VERSIONS.includes(match[1]!)) return notFound(res);
    if (match[2] === "meta_data.json") return sendJson(res, metaData(options));
    return options.userdata ? send(res, 200, options.userdata, { "Content-Type": "application/octet-stream" }) : notFound(res);
  };
  const ipv6 = { address: "fe80::a9fe:a9fe", port: 80, handler };
  if (options.scenario === "ipv6-only") return { addresses: ["fe80::a9fe:a9fe/64"], listeners: [ipv6] };
  return { addresses: ["169.254.169.254/32", "fe80::a9fe:a9fe/64"], listeners: [{ address: "169.254.169.254", port: 80, handler }, ipv6] };
}
