// Butane's sugar that can be settled field by field while reading: inline and
// local contents, local unit contents and SSH keys, and Butane's own checks
// (one source per resource, modes that look decimal, mount units that need a
// format and a path, no clevis on Flatcar). What needs the whole document is
// recorded in cx.pending for generate.ts.

import type { JsonPath } from "../issues";
import { makeDataUrl } from "./dataurl";
import { LocalFileError, NO_FILES_DIR, readLocal } from "./local";
import { setFieldOrigin } from "./origins";
import type { Plain, ReadCx } from "./read";

/** Reads a local file, or records the error at `path`. */
function local(cx: ReadCx, name: string, path: JsonPath): Buffer | undefined {
  try {
    return readLocal(name, cx.filesDir);
  } catch (e) {
    if (e instanceof LocalFileError) {
      cx.issues.error(path, e.message);
      return undefined;
    }
    throw e;
  }
}

export function resourceContents(cx: ReadCx, out: Plain, own: Plain, path: JsonPath): void {
  const given = (["local", "inline", "source"] as const).filter((k) => (k === "source" ? out.source : own[k]) !== undefined);
  if (given.length > 1) {
    cx.issues.error([...path, given[given.length - 1]!], `only one of inline, local and source can be set`);
    return;
  }
  let contents: Buffer | undefined;
  let from: JsonPath | undefined;
  if (typeof own.local === "string") {
    from = [...path, "local"];
    contents = local(cx, own.local, from);
    if (!contents) return;
  } else if (typeof own.inline === "string") {
    from = [...path, "inline"];
    contents = Buffer.from(own.inline, "utf8");
  }
  if (!contents || !from) return;
  const url = makeDataUrl(contents, out.compression as string | undefined, cx.version.ignitionMinor === 0);
  out.source = url.source;
  setFieldOrigin(out, "source", from);
  if (url.compression !== undefined) {
    out.compression = url.compression;
    setFieldOrigin(out, "compression", from);
  }
}

export function unitContentsLocal(cx: ReadCx, out: Plain, own: Plain, path: JsonPath): void {
  if (typeof own.contents_local !== "string") return;
  const at = [...path, "contents_local"];
  if (out.contents !== undefined) {
    cx.issues.error(at, "only one of contents and contents_local can be set");
    return;
  }
  const contents = local(cx, own.contents_local, at);
  if (!contents) return;
  out.contents = contents.toString("utf8");
  setFieldOrigin(out, "contents", at);
}

export function sshKeysLocal(cx: ReadCx, out: Plain, own: Plain, path: JsonPath): void {
  const files = own.ssh_authorized_keys_local as string[] | undefined;
  if (!files || files.length === 0) return;
  const at = [...path, "ssh_authorized_keys_local"];
  if (cx.filesDir === undefined) {
    cx.issues.error(at, NO_FILES_DIR);
    return;
  }
  const keys = (out.sshAuthorizedKeys as string[] | undefined) ?? [];
  files.forEach((name, i) => {
    const contents = local(cx, name, [...at, i]);
    if (!contents) return;
    for (const line of contents.toString("utf8").split(/\r?\n/)) {
      if (line === "") continue;
      setFieldOrigin(keys, keys.length, [...at, i]);
      keys.push(line);
    }
  });
  out.sshAuthorizedKeys = keys;
  setFieldOrigin(out, "sshAuthorizedKeys", at);
}

/** A mode like 644 was meant as 0644: warn, as Butane does, when only the octal reading is a usual mode. */
export function fileMode(directory: boolean) {
  return (cx: ReadCx, out: Plain, _own: Plain, path: JsonPath): void => {
    const mode = out.mode;
    if (typeof mode !== "number") return;
    const octal = decimalDigitsAsOctal(mode);
    if (octal !== undefined && !isTypicalMode(mode, directory) && isTypicalMode(octal, directory)) {
      cx.issues.warn([...path, "mode"], `mode ${mode} is unusual, and would be usual in octal: write it with a leading zero (0${mode})`);
    }
  };
}

function decimalDigitsAsOctal(mode: number): number | undefined {
  if (mode < 0 || mode > 7777) return undefined;
  const digits = String(mode);
  if (/[89]/.test(digits)) return undefined;
  return parseInt(digits, 8);
}

function isTypicalMode(mode: number, directory: boolean): boolean {
  if (mode === 0) return true;
  let hadR = false;
  let hadW = false;
  let hadX = false;
  // other, group, user: each more specific class has at least the bits of the less specific one
  for (const perm of [mode & 7, (mode >> 3) & 7, (mode >> 6) & 7]) {
    const r = (perm & 4) !== 0;
    const w = (perm & 2) !== 0;
    const x = (perm & 1) !== 0;
    if ((!r && hadR) || (!w && hadW) || (!x && hadX)) return false;
    if (x && hadR && !hadX) return false;
    if ((w || x) && !r) return false;
    hadR ||= r;
    hadW ||= w;
    hadX ||= x;
  }
  if (!hadR) return false;
  if (directory) {
    if (!hadX || mode & 0o4000) return false;
    if (mode & 0o3000 && !hadW) return false;
  } else {
    if (mode & 0o6000 && (!hadX || mode & 2)) return false;
    if (mode & 0o1000) return false;
  }
  return true;
}

export function filesystemMountUnit(cx: ReadCx, out: Plain, own: Plain, path: JsonPath): void {
  if (own.with_mount_unit !== true) return;
  if (out.format === undefined || out.format === "") cx.issues.error([...path, "format"], "format is required with with_mount_unit");
  // swap units came with fcos 1.4 (Ignition 3.3); before, every mount unit needed a path
  else if ((out.format !== "swap" || cx.version.ignitionMinor < 3) && (out.path === undefined || out.path === "")) cx.issues.error([...path, "path"], cx.version.ignitionMinor < 3 ? "path is required with with_mount_unit" : "path is required with with_mount_unit (except for swap)");
  else if (cx.version.diskChecks && typeof out.path === "string" && !/^\/(etc|var)(\/|$)/.test(out.path)) cx.issues.error([...path, "path"], "path must be under /etc or /var if with_mount_unit is true");
  else cx.pending.mountUnits.push({ filesystem: out, yamlPath: [...path, "with_mount_unit"] });
}

export function luksClevisSupport(cx: ReadCx, out: Plain, _own: Plain, path: JsonPath): void {
  if (!cx.version.clevis && out.clevis !== undefined && Object.keys(out.clevis as Plain).length > 0) {
    cx.issues.error([...path, "clevis"], `clevis is not supported in ${cx.version.variant} ${cx.version.version}`);
  }
}

export function tree(cx: ReadCx, _out: Plain, own: Plain, path: JsonPath): void {
  if (typeof own.local !== "string" || own.local === "") {
    cx.issues.error(path, "a tree needs local, the directory (under --files-dir) to copy");
    return;
  }
  cx.pending.trees.push({ local: own.local, ...(typeof own.path === "string" ? { path: own.path } : {}), yamlPath: path });
}

const LAYOUTS = ["aarch64", "ppc64le", "x86_64"];
/** fcos 1.6's IBM Z layouts: Butane makes zipl and s390x LUKS settings of them, which Flint does not. */
const S390X_LAYOUTS = ["s390x-eckd", "s390x-zfcp", "s390x-virt"];

export function bootDeviceChecks(cx: ReadCx, _out: Plain, own: Plain, path: JsonPath): void {
  const luks = own.luks as Plain | undefined;
  if (S390X_LAYOUTS.includes(own.layout as string) && cx.version.ignitionMinor >= 5) {
    cx.issues.error([...path, "layout"], `layout ${own.layout} (IBM Z) is not supported by Flint; it supports ${LAYOUTS.join(", ")}`);
    return;
  }
  if (own.layout !== undefined && !LAYOUTS.includes(own.layout as string)) {
    const known = cx.version.ignitionMinor >= 5 ? [...LAYOUTS, ...S390X_LAYOUTS] : LAYOUTS;
    cx.issues.error([...path, "layout"], `layout must be one of ${known.join(", ")} (got ${JSON.stringify(own.layout)})`);
    return;
  }
  for (const key of ["device", "cex"]) {
    if (luks?.[key] !== undefined) {
      cx.issues.error([...path, "luks", key], `boot_device.luks.${key} is for IBM Z (s390x) boot disks, which Flint does not support`);
      return;
    }
  }
  const devices = (own.mirror as Plain | undefined)?.devices as string[] | undefined;
  // fcos 1.7 (Ignition 3.6): a mirror must say which architecture's partitions to copy.
  if (devices?.length && own.layout === undefined && cx.version.ignitionMinor >= 6) {
    cx.issues.error([...path, "mirror"], "a mirror needs boot_device.layout (fcos 1.7.0 and later)");
    return;
  }
  if (devices?.length === 1) {
    cx.issues.error([...path, "mirror", "devices"], "mirroring needs at least two devices");
    return;
  }
  cx.pending.bootDevice = { own, yamlPath: path };
}

export function grubUserChecks(cx: ReadCx, out: Plain, _own: Plain, path: JsonPath): void {
  if (!out.name) cx.issues.error([...path, "name"], "a GRUB user needs a name");
  if (!out.passwordHash) cx.issues.error([...path, "password_hash"], "a GRUB user needs a password_hash");
}

export function grub(cx: ReadCx, _out: Plain, own: Plain, path: JsonPath): void {
  const users = own.users as Plain[] | undefined;
  if (users && users.length > 0) cx.pending.grubUsers = { users, yamlPath: [...path, "users"] };
}
