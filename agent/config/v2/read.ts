// Reads a 2.x document (spec 2.0.0–2.3.0) into its own typed model, before
// translation to 3.x. Keys newer than the document's 2.x version are warned
// about and dropped, as for 3.x.

import { boolean, f, integer, list, object, string } from "../read";
import type { PasswdUser } from "../types";

export interface V2Reference {
  source: string;
  verification?: { hash?: string };
}

export interface V2Resource {
  source?: string;
  compression?: string;
  verification?: { hash?: string };
}

export interface V2Partition {
  label?: string;
  number?: number;
  size?: number;
  start?: number;
  typeGuid?: string;
  guid?: string;
  wipePartitionEntry?: boolean;
  shouldExist?: boolean;
}

export interface V2Disk {
  device: string;
  wipeTable?: boolean;
  partitions?: V2Partition[];
}

export interface V2Raid {
  name: string;
  level?: string;
  devices?: string[];
  spares?: number;
  options?: string[];
}

export interface V2Mount {
  device: string;
  format?: string;
  create?: { force?: boolean; options?: string[] };
  wipeFilesystem?: boolean;
  label?: string;
  uuid?: string;
  options?: string[];
}

export interface V2Filesystem {
  name?: string;
  mount?: V2Mount;
  path?: string;
}

export interface V2Owner {
  id?: number;
  name?: string;
}

interface V2Node {
  filesystem?: string;
  path: string;
  overwrite?: boolean;
  user?: V2Owner;
  group?: V2Owner;
}

export interface V2File extends V2Node {
  append?: boolean;
  contents?: V2Resource;
  mode?: number;
}

export interface V2Directory extends V2Node {
  mode?: number;
}

export interface V2Link extends V2Node {
  target?: string;
  hard?: boolean;
}

export interface V2Dropin {
  name: string;
  contents?: string;
}

export interface V2Unit {
  name: string;
  enable?: boolean;
  enabled?: boolean;
  mask?: boolean;
  contents?: string;
  dropins?: V2Dropin[];
}

export interface V2NetworkdUnit {
  name: string;
  contents?: string;
  dropins?: V2Dropin[];
}

/** 2.x `create`: the useradd fields that 3.x moved onto the user itself. */
export type V2UserCreate = Pick<PasswdUser, "uid" | "gecos" | "homeDir" | "noCreateHome" | "primaryGroup" | "groups" | "noUserGroup" | "system" | "noLogInit" | "shell">;

export interface V2User extends V2UserCreate {
  name: string;
  passwordHash?: string;
  sshAuthorizedKeys?: string[];
  create?: V2UserCreate;
}

export interface V2Group {
  name: string;
  gid?: number;
  passwordHash?: string;
  system?: boolean;
}

export interface V2Config {
  ignition: {
    version: string;
    config?: { append?: V2Reference[]; replace?: V2Reference };
    timeouts?: { httpResponseHeaders?: number; httpTotal?: number };
    security?: { tls?: { certificateAuthorities?: V2Reference[] } };
  };
  storage?: {
    disks?: V2Disk[];
    raid?: V2Raid[];
    filesystems?: V2Filesystem[];
    files?: V2File[];
    directories?: V2Directory[];
    links?: V2Link[];
  };
  systemd?: { units?: V2Unit[] };
  networkd?: { units?: V2NetworkdUnit[] };
  passwd?: { users?: V2User[]; groups?: V2Group[] };
}

const hashed = object<{ hash?: string }>({ hash: f(string) });
const reference = object<V2Reference>({ source: f(string, { required: true }), verification: f(hashed) });
const resource = object<V2Resource>({ source: f(string), compression: f(string), verification: f(hashed) });
const owner = (since: number) => object<V2Owner>({ id: f(integer), name: f(string, { since }) });

const partition = object<V2Partition>({
  label: f(string),
  number: f(integer),
  size: f(integer),
  start: f(integer),
  typeGuid: f(string),
  guid: f(string, { since: 1 }),
  wipePartitionEntry: f(boolean, { since: 3 }),
  shouldExist: f(boolean, { since: 3 }),
});

const mount = object<V2Mount>({
  device: f(string, { required: true }),
  format: f(string),
  create: f(object<NonNullable<V2Mount["create"]>>({ force: f(boolean), options: f(list(string)) })),
  wipeFilesystem: f(boolean, { since: 1 }),
  label: f(string, { since: 1 }),
  uuid: f(string, { since: 1 }),
  options: f(list(string), { since: 1 }),
});

const file = object<V2File>({
  filesystem: f(string),
  path: f(string, { required: true }),
  overwrite: f(boolean, { since: 2 }),
  append: f(boolean, { since: 2 }),
  contents: f(resource),
  mode: f(integer),
  user: f(owner(1)),
  group: f(owner(1)),
});

const directory = object<V2Directory>({
  filesystem: f(string),
  path: f(string, { required: true }),
  overwrite: f(boolean, { since: 2 }),
  mode: f(integer),
  user: f(owner(1)),
  group: f(owner(1)),
});

const link = object<V2Link>({
  filesystem: f(string),
  path: f(string, { required: true }),
  overwrite: f(boolean, { since: 2 }),
  user: f(owner(1)),
  group: f(owner(1)),
  target: f(string),
  hard: f(boolean),
});

const dropin = object<V2Dropin>({ name: f(string, { required: true }), contents: f(string) });

const userCreateFields = {
  uid: f(integer),
  gecos: f(string),
  homeDir: f(string),
  noCreateHome: f(boolean),
  primaryGroup: f(string),
  groups: f(list(string)),
  noUserGroup: f(boolean),
  system: f(boolean),
  noLogInit: f(boolean),
  shell: f(string),
};

const user = object<V2User>({
  name: f(string, { required: true }),
  passwordHash: f(string),
  sshAuthorizedKeys: f(list(string)),
  ...(Object.fromEntries(Object.entries(userCreateFields).map(([k, v]) => [k, { ...v, since: 1 }])) as typeof userCreateFields),
  create: f(object<V2UserCreate>(userCreateFields)),
});

export const readConfigV2 = object<V2Config>({
  ignition: f(
    object<V2Config["ignition"]>({
      version: f(string, { required: true }),
      config: f(object<NonNullable<V2Config["ignition"]["config"]>>({ append: f(list(reference)), replace: f(reference) })),
      timeouts: f(object<NonNullable<V2Config["ignition"]["timeouts"]>>({ httpResponseHeaders: f(integer), httpTotal: f(integer) })),
      security: f(
        object<NonNullable<V2Config["ignition"]["security"]>>({
          tls: f(object<{ certificateAuthorities?: V2Reference[] }>({ certificateAuthorities: f(list(reference)) })),
        }),
        { since: 2 },
      ),
    }),
    { required: true },
  ),
  storage: f(
    object<NonNullable<V2Config["storage"]>>({
      disks: f(list(object<V2Disk>({ device: f(string, { required: true }), wipeTable: f(boolean), partitions: f(list(partition)) }))),
      raid: f(
        list(
          object<V2Raid>({
            name: f(string, { required: true }),
            level: f(string),
            devices: f(list(string)),
            spares: f(integer),
            options: f(list(string), { since: 2 }),
          }),
        ),
      ),
      filesystems: f(list(object<V2Filesystem>({ name: f(string), mount: f(mount), path: f(string) }))),
      files: f(list(file)),
      directories: f(list(directory), { since: 1 }),
      links: f(list(link), { since: 1 }),
    }),
  ),
  systemd: f(
    object<NonNullable<V2Config["systemd"]>>({
      units: f(
        list(
          object<V2Unit>({
            name: f(string, { required: true }),
            enable: f(boolean),
            enabled: f(boolean, { since: 1 }),
            mask: f(boolean),
            contents: f(string),
            dropins: f(list(dropin)),
          }),
        ),
      ),
    }),
  ),
  networkd: f(
    object<NonNullable<V2Config["networkd"]>>({
      units: f(list(object<V2NetworkdUnit>({ name: f(string, { required: true }), contents: f(string), dropins: f(list(dropin), { since: 2 }) }))),
    }),
  ),
  passwd: f(
    object<NonNullable<V2Config["passwd"]>>({
      users: f(list(user)),
      groups: f(list(object<V2Group>({ name: f(string, { required: true }), gid: f(integer), passwordHash: f(string), system: f(boolean) }))),
    }),
  ),
});
