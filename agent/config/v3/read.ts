// Reads a 3.x document into the typed Config model. Which keys exist depends
// on the document's minor version (`since`); newer keys are warned about and dropped.

import { boolean, f, integer, items, list, object, string, type Read } from "../read";
import type * as T from "../types";

const header = object<T.HttpHeader>({ name: f(string, { required: true }), value: f(string) });
const verification = object<T.Verification>({ hash: f(string) });

const resource = object<T.Resource>({
  source: f(string),
  compression: f(string as Read<"gzip" | "">),
  httpHeaders: f(list(header), { since: 1 }),
  verification: f(verification),
});

/** Config references and CAs gained `compression` only in 3.1. */
const reference = object<T.ConfigReference>({
  source: f(string, { required: true }),
  compression: f(string as Read<"gzip" | "">, { since: 1 }),
  httpHeaders: f(list(header), { since: 1 }),
  verification: f(verification),
});

/** `replace` may be present but empty (all fields absent). */
const replaceReference = object<T.Resource>({
  source: f(string),
  compression: f(string as Read<"gzip" | "">, { since: 1 }),
  httpHeaders: f(list(header), { since: 1 }),
  verification: f(verification),
}) as Read<T.ConfigReference>;

const ignition = object<T.Ignition>({
  version: f(string, { required: true }),
  config: f(object<NonNullable<T.Ignition["config"]>>({ merge: f(list(reference)), replace: f(replaceReference) })),
  timeouts: f(object<T.Timeouts>({ httpResponseHeaders: f(integer), httpTotal: f(integer) })),
  security: f(
    object<NonNullable<T.Ignition["security"]>>({
      tls: f(object<NonNullable<NonNullable<T.Ignition["security"]>["tls"]>>({ certificateAuthorities: f(list(reference)) })),
    }),
  ),
  proxy: f(object<T.Proxy>({ httpProxy: f(string), httpsProxy: f(string), noProxy: f(list(string)) }), { since: 1 }),
});

const partition = object<T.Partition>({
  label: f(string),
  number: f(integer),
  sizeMiB: f(integer),
  startMiB: f(integer),
  typeGuid: f(string),
  guid: f(string),
  wipePartitionEntry: f(boolean),
  shouldExist: f(boolean),
  resize: f(boolean, { since: 2 }),
});

const disk = object<T.Disk>({ device: f(string, { required: true }), wipeTable: f(boolean), partitions: f(list(partition)) });

const raid = object<T.Raid>({
  name: f(string, { required: true }),
  level: f(string),
  devices: f(list(string)),
  spares: f(integer),
  options: f(list(string)),
});

const filesystem = object<T.Filesystem>({
  device: f(string, { required: true }),
  format: f(string as Read<T.FilesystemFormat>),
  path: f(string),
  wipeFilesystem: f(boolean),
  label: f(string),
  uuid: f(string),
  options: f(list(string)),
  mountOptions: f(list(string), { since: 1 }),
});

/**
 * Before 3.6.0, Ignition warns about setuid/setgid/sticky bits and masks them
 * off as it reads the config (its releases before the fix never applied
 * them); 3.6.0 applies them. A mode out of range is left for validation.
 */
const mode: Read<number> = (value, path, cx) => {
  const m = integer(value, path, cx);
  if (m === undefined || cx.minor >= 6 || m < 0 || m > 0o7777 || (m & 0o7000) === 0) return m;
  cx.issues.warn(path, `setuid, setgid and sticky bits are applied only from spec 3.6.0: mode 0${m.toString(8)} is applied as 0${(m & 0o777).toString(8).padStart(3, "0")}`);
  return m & 0o777;
};

const nodeUser = object<T.NodeUser>({ id: f(integer), name: f(string) });
const nodeGroup = object<T.NodeGroup>({ id: f(integer), name: f(string) });

const file = object<T.File>({
  path: f(string, { required: true }),
  overwrite: f(boolean),
  contents: f(resource),
  append: f(list(resource)),
  mode: f(mode),
  user: f(nodeUser),
  group: f(nodeGroup),
});

/** An empty source means empty contents: the stages get a URL they can fetch. */
function emptySourceAsData(f: T.File): void {
  if (f.contents?.source === "") f.contents.source = "data:,";
  f.append?.forEach((r) => {
    if (r.source === "") r.source = "data:,";
  });
}

const directory = object<T.Directory>({
  path: f(string, { required: true }),
  overwrite: f(boolean),
  mode: f(mode),
  user: f(nodeUser),
  group: f(nodeGroup),
});

const link = object<T.Link>({
  path: f(string, { required: true }),
  overwrite: f(boolean),
  user: f(nodeUser),
  group: f(nodeGroup),
  target: f(string),
  hard: f(boolean),
});

const tang = object<T.Tang>({ url: f(string, { required: true }), thumbprint: f(string), advertisement: f(string, { since: 4 }) });

const clevis = object<T.Clevis>({
  tang: f(list(tang)),
  tpm2: f(boolean),
  threshold: f(integer),
  custom: f(object<NonNullable<T.Clevis["custom"]>>({ pin: f(string), config: f(string), needsNetwork: f(boolean) })),
});

const luks = object<T.Luks>({
  name: f(string, { required: true }),
  device: f(string),
  keyFile: f(resource),
  label: f(string),
  uuid: f(string),
  options: f(list(string)),
  discard: f(boolean, { since: 4 }),
  openOptions: f(list(string), { since: 4 }),
  wipeVolume: f(boolean),
  clevis: f(clevis),
  cex: f(object<NonNullable<T.Luks["cex"]>>({ enabled: f(boolean) }), { since: 5 }),
});

const storage = object<T.Storage>({
  disks: f(list(disk)),
  raid: f(list(raid)),
  filesystems: f(list(filesystem)),
  files: f(items(file, emptySourceAsData)),
  directories: f(items(directory)),
  links: f(items(link)),
  luks: f(list(luks), { since: 2 }),
});

const dropin = object<T.Dropin>({ name: f(string, { required: true }), contents: f(string) });
const unit = object<T.Unit>({
  name: f(string, { required: true }),
  enabled: f(boolean),
  mask: f(boolean),
  contents: f(string),
  dropins: f(list(dropin)),
});

const user = object<T.PasswdUser>({
  name: f(string, { required: true }),
  passwordHash: f(string),
  sshAuthorizedKeys: f(list(string)),
  uid: f(integer),
  gecos: f(string),
  homeDir: f(string),
  noCreateHome: f(boolean),
  primaryGroup: f(string),
  groups: f(list(string)),
  noUserGroup: f(boolean),
  noLogInit: f(boolean),
  shell: f(string),
  shouldExist: f(boolean, { since: 2 }),
  system: f(boolean),
});

const group = object<T.PasswdGroup>({
  name: f(string, { required: true }),
  gid: f(integer),
  passwordHash: f(string),
  shouldExist: f(boolean, { since: 2 }),
  system: f(boolean),
});

export const readConfigV3 = object<T.Config>({
  ignition: f(ignition, { required: true }),
  storage: f(storage),
  systemd: f(object<T.Systemd>({ units: f(list(unit)) })),
  passwd: f(object<T.Passwd>({ users: f(list(user)), groups: f(list(group)) })),
  kernelArguments: f(object<T.KernelArguments>({ shouldExist: f(list(string)), shouldNotExist: f(list(string)) }), { since: 3 }),
});
