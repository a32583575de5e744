// The typed Ignition 3.x config model that every stage consumes.
// It is the union of all 3.x spec versions up to the newest: parse/translate
// turn any accepted document (2.x or 3.x) into this shape once, at the edge.
// JSON `null` is normalised to an absent field.

import type { ItemList } from "./item-list";

export const NEWEST_SPEC = "3.6.0";

export interface HttpHeader {
  name: string;
  value?: string;
}

export interface Verification {
  /** `sha256-<hex>` or `sha512-<hex>` */
  hash?: string;
}

/** A fetchable resource: file contents, config references, CAs, key files. */
export interface Resource {
  source?: string;
  compression?: "gzip" | "";
  httpHeaders?: HttpHeader[];
  verification?: Verification;
}

export interface ConfigReference extends Resource {
  source: string;
}

export interface Proxy {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string[];
}

export interface Timeouts {
  /** seconds; 0 = no timeout; default 10 */
  httpResponseHeaders?: number;
  /** seconds; 0 = no timeout; default 0 */
  httpTotal?: number;
}

export interface Ignition {
  version: string;
  config?: { merge?: ConfigReference[]; replace?: ConfigReference };
  timeouts?: Timeouts;
  security?: { tls?: { certificateAuthorities?: ConfigReference[] } };
  proxy?: Proxy;
}

export interface Partition {
  label?: string;
  number?: number;
  sizeMiB?: number;
  startMiB?: number;
  typeGuid?: string;
  guid?: string;
  wipePartitionEntry?: boolean;
  shouldExist?: boolean;
  resize?: boolean;
}

export interface Disk {
  device: string;
  wipeTable?: boolean;
  partitions?: Partition[];
}

export interface Raid {
  name: string;
  level?: string;
  devices?: string[];
  spares?: number;
  options?: string[];
}

export type FilesystemFormat = "ext4" | "btrfs" | "xfs" | "vfat" | "swap" | "none";

export interface Filesystem {
  device: string;
  format?: FilesystemFormat;
  path?: string;
  wipeFilesystem?: boolean;
  label?: string;
  uuid?: string;
  options?: string[];
  mountOptions?: string[];
}

export interface NodeUser {
  id?: number;
  name?: string;
}

export interface NodeGroup {
  id?: number;
  name?: string;
}

interface Node {
  path: string;
  overwrite?: boolean;
  user?: NodeUser;
  group?: NodeGroup;
}

export interface File extends Node {
  contents?: Resource;
  append?: Resource[];
  mode?: number;
}

export interface Directory extends Node {
  mode?: number;
}

export interface Link extends Node {
  target?: string;
  hard?: boolean;
}

export interface Tang {
  url: string;
  thumbprint?: string;
  advertisement?: string;
}

export interface Clevis {
  tang?: Tang[];
  tpm2?: boolean;
  threshold?: number;
  custom?: { pin?: string; config?: string; needsNetwork?: boolean };
}

export interface Luks {
  name: string;
  device?: string;
  keyFile?: Resource;
  label?: string;
  uuid?: string;
  options?: string[];
  discard?: boolean;
  openOptions?: string[];
  wipeVolume?: boolean;
  clevis?: Clevis;
  cex?: { enabled?: boolean };
}

export interface Storage {
  disks?: Disk[];
  raid?: Raid[];
  filesystems?: Filesystem[];
  /** Arrays, or a big config's spooled lists (item-list.ts). */
  files?: ItemList<File>;
  directories?: ItemList<Directory>;
  links?: ItemList<Link>;
  luks?: Luks[];
}

export interface Dropin {
  name: string;
  contents?: string;
}

export interface Unit {
  name: string;
  enabled?: boolean;
  mask?: boolean;
  contents?: string;
  dropins?: Dropin[];
}

export interface Systemd {
  units?: Unit[];
}

export interface PasswdUser {
  name: string;
  passwordHash?: string;
  sshAuthorizedKeys?: string[];
  uid?: number;
  gecos?: string;
  homeDir?: string;
  noCreateHome?: boolean;
  primaryGroup?: string;
  groups?: string[];
  noUserGroup?: boolean;
  noLogInit?: boolean;
  shell?: string;
  shouldExist?: boolean;
  system?: boolean;
}

export interface PasswdGroup {
  name: string;
  gid?: number;
  passwordHash?: string;
  shouldExist?: boolean;
  system?: boolean;
}

export interface Passwd {
  users?: PasswdUser[];
  groups?: PasswdGroup[];
}

export interface KernelArguments {
  shouldExist?: string[];
  shouldNotExist?: string[];
}

export interface Config {
  ignition: Ignition;
  storage?: Storage;
  systemd?: Systemd;
  passwd?: Passwd;
  kernelArguments?: KernelArguments;
}
