// Translates a 2.x config into the 3.x model. Named filesystems become path
// prefixes, `append: true` entries become one file's `append` list, networkd
// units become files under /etc/systemd/network, sizes in sectors become MiB.
// A 2.x construct with no 3.x meaning is an error naming its path.
// `origins` maps each produced 3.x entry back to the 2.x entry it came from,
// so later validation errors still point into the document the user wrote.

import type { IssueList, JsonPath } from "../issues";
import type * as T from "../types";
import type { V2Config, V2Directory, V2File, V2Link, V2Owner, V2Reference, V2Resource } from "./read";

export interface Translation {
  config: T.Config;
  origins: Map<string, JsonPath>;
}

export const originKey = (path: JsonPath) => path.join("\u0000");

const SECTOR = 512;
const MIB = 1024 * 1024;
const SECTORS_PER_MIB = MIB / SECTOR;

/** Where Flatcar mounts the filesystems that 2.x configs name by convention. */
const WELL_KNOWN_MOUNTS: Record<string, string> = { root: "/", oem: "/oem" };

export function translateV2(doc: V2Config, issues: IssueList): Translation {
  const origins = new Map<string, JsonPath>();
  const origin = (to: JsonPath, from: JsonPath) => origins.set(originKey(to), from);
  const out: T.Config = { ignition: translateIgnition(doc.ignition) };

  const storage: T.Storage = {};
  const s = doc.storage ?? {};
  const mounts = translateFilesystems(s, storage, issues, origin);

  if (s.disks) {
    storage.disks = s.disks.map((d, i) => {
      origin(["storage", "disks", i], ["storage", "disks", i]);
      const disk: T.Disk = { device: d.device };
      if (d.wipeTable !== undefined) disk.wipeTable = d.wipeTable;
      if (d.partitions) {
        disk.partitions = d.partitions.map((p, j) => {
          const at: JsonPath = ["storage", "disks", i, "partitions", j];
          origin(at, at);
          const part: T.Partition = {};
          if (p.label !== undefined) part.label = p.label;
          if (p.number !== undefined) part.number = p.number;
          if (p.size !== undefined) part.sizeMiB = sectorsToMiB(p.size, [...at, "size"], issues);
          if (p.start !== undefined) part.startMiB = sectorsToMiB(p.start, [...at, "start"], issues);
          if (p.typeGuid !== undefined) part.typeGuid = p.typeGuid;
          if (p.guid !== undefined) part.guid = p.guid;
          if (p.wipePartitionEntry !== undefined) part.wipePartitionEntry = p.wipePartitionEntry;
          if (p.shouldExist !== undefined) part.shouldExist = p.shouldExist;
          return part;
        });
      }
      return disk;
    });
  }
  if (s.raid) {
    storage.raid = s.raid.map((r, i) => {
      origin(["storage", "raid", i], ["storage", "raid", i]);
      return { ...r };
    });
  }

  translateFiles(s.files, mounts, storage, issues, origin);
  storage.directories = translateNodes("directories", s.directories, mounts, issues, origin, (d: V2Directory, base) => ({ ...base, ...(d.mode !== undefined ? { mode: d.mode } : {}) }));
  storage.links = translateNodes("links", s.links, mounts, issues, origin, (l: V2Link, base, prefix) => {
    const link: T.Link = { ...base };
    // A hard link's target lives on the same filesystem, so it moves with it; a symlink's target is literal.
    if (l.target !== undefined) link.target = l.hard && l.target.startsWith("/") ? joinPath(prefix, l.target) : l.target;
    if (l.hard !== undefined) link.hard = l.hard;
    return link;
  });
  translateNetworkd(doc, storage, issues, origin);
  for (const key of Object.keys(storage) as (keyof T.Storage)[]) {
    if (storage[key] === undefined || storage[key]!.length === 0) delete storage[key];
  }
  if (Object.keys(storage).length) out.storage = storage;

  if (doc.systemd?.units) {
    out.systemd = {
      units: doc.systemd.units.map((u, i) => {
        origin(["systemd", "units", i], ["systemd", "units", i]);
        const unit: T.Unit = { name: u.name };
        const enabled = u.enabled ?? u.enable;
        if (enabled !== undefined) unit.enabled = enabled;
        if (u.mask !== undefined) unit.mask = u.mask;
        if (u.contents !== undefined) unit.contents = u.contents;
        if (u.dropins) unit.dropins = u.dropins.map((d) => ({ ...d }));
        return unit;
      }),
    };
  }

  if (doc.passwd) {
    const passwd: T.Passwd = {};
    if (doc.passwd.users) {
      passwd.users = doc.passwd.users.map((u, i) => {
        origin(["passwd", "users", i], ["passwd", "users", i]);
        const { create, ...rest } = u;
        // `create` (2.0) held the useradd fields; the top-level ones (2.1+) win when both are given.
        return { ...(create ?? {}), ...rest } as T.PasswdUser;
      });
    }
    if (doc.passwd.groups) {
      passwd.groups = doc.passwd.groups.map((g, i) => {
        origin(["passwd", "groups", i], ["passwd", "groups", i]);
        return { ...g };
      });
    }
    out.passwd = passwd;
  }
  return { config: out, origins };
}

function translateIgnition(ig: V2Config["ignition"]): T.Ignition {
  const out: T.Ignition = { version: ig.version };
  const refs = (list: V2Reference[]) => list.map(reference);
  if (ig.config) {
    const config: NonNullable<T.Ignition["config"]> = {};
    if (ig.config.append) config.merge = refs(ig.config.append);
    if (ig.config.replace) config.replace = reference(ig.config.replace);
    out.config = config;
  }
  if (ig.timeouts) out.timeouts = { ...ig.timeouts };
  const cas = ig.security?.tls?.certificateAuthorities;
  if (cas) out.security = { tls: { certificateAuthorities: refs(cas) } };
  return out;
}

// Sources are kept as they are: oem:// included, which Flatcar's Ignition reads in 3.x too.
function reference(r: V2Reference): T.ConfigReference {
  const out: T.ConfigReference = { source: r.source };
  if (r.verification?.hash !== undefined) out.verification = { hash: r.verification.hash };
  return out;
}

function resource(r: V2Resource | undefined): T.Resource | undefined {
  if (!r) return undefined;
  const out: T.Resource = {};
  if (r.source !== undefined && r.source !== "") out.source = r.source;
  if (r.compression !== undefined && r.compression !== "") out.compression = r.compression as "gzip";
  if (r.verification?.hash !== undefined) out.verification = { hash: r.verification.hash };
  return out;
}

function sectorsToMiB(sectors: number, path: JsonPath, issues: IssueList): number | undefined {
  if (sectors % SECTORS_PER_MIB !== 0) {
    issues.error(path, `${sectors} sectors is not a whole number of MiB (${SECTORS_PER_MIB} sectors); spec 3.x sizes and starts are in MiB`);
    return undefined;
  }
  return sectors / SECTORS_PER_MIB;
}

type Origin = (to: JsonPath, from: JsonPath) => void;

/** Returns each named filesystem's 3.x mount path (undefined: formatted but not mounted). */
function translateFilesystems(s: NonNullable<V2Config["storage"]>, storage: T.Storage, issues: IssueList, origin: Origin): Map<string, string | undefined> {
  const mounts = new Map<string, string | undefined>([["root", "/"]]);
  const used = new Set<string>();
  for (const list of [s.files, s.directories, s.links]) list?.forEach((n) => n.filesystem && used.add(n.filesystem));
  const filesystems: T.Filesystem[] = [];
  // Flatcar's rule (its Ignition's 2.x translation, after ign-converter): a
  // filesystem 2.x names without a path is mounted at a path made up for it,
  // `oem` at /oem and any other at /tmp/NAME-ignN inside the root, N counting
  // the names placed so far, so that files written to it land on it. One
  // that no file, directory or link uses is formatted and left unmounted.
  let generated = 0;
  const generatedMount = (name: string): string | undefined => {
    if (name === "root") return "/";
    if (!WELL_KNOWN_MOUNTS[name] && !used.has(name)) return undefined;
    generated++;
    return WELL_KNOWN_MOUNTS[name] ?? `/tmp/${name}-ign${generated}`;
  };
  s.filesystems?.forEach((fs, i) => {
    const at: JsonPath = ["storage", "filesystems", i];
    if (!fs.name) {
      issues.error([...at, "name"], "name is required");
      return;
    }
    if (fs.mount && fs.path !== undefined) {
      issues.error(at, "a filesystem has either mount or path, not both");
      return;
    }
    if (fs.path !== undefined) {
      // 2.x `path`: already mounted in the initramfs; only the future root has a 3.x meaning.
      if (fs.path === "/sysroot" || fs.path.startsWith("/sysroot/")) mounts.set(fs.name, fs.path.slice("/sysroot".length) || "/");
      else issues.error([...at, "path"], `filesystem path ${JSON.stringify(fs.path)} has no 3.x equivalent: only /sysroot (the future root) and paths below it can be translated`);
      return;
    }
    if (!fs.mount) {
      issues.error(at, "a filesystem needs mount or path");
      return;
    }
    const m = fs.mount;
    // Swap is never mounted, so it is given no path.
    const mountPath = m.format === "swap" ? undefined : generatedMount(fs.name);
    if (m.create && (m.wipeFilesystem !== undefined || m.label !== undefined || m.uuid !== undefined || m.options !== undefined)) {
      issues.error([...at, "mount", "create"], "create cannot be combined with wipeFilesystem, label, uuid or options");
    }
    const out: T.Filesystem = { device: m.device };
    if (m.format !== undefined) out.format = m.format as T.FilesystemFormat;
    if (mountPath !== undefined) out.path = mountPath;
    const wipe = m.wipeFilesystem ?? m.create?.force;
    if (wipe !== undefined) out.wipeFilesystem = wipe;
    if (m.label !== undefined) out.label = m.label;
    if (m.uuid !== undefined) out.uuid = m.uuid;
    const options = m.options ?? m.create?.options;
    if (options !== undefined) out.options = options;
    origin(["storage", "filesystems", filesystems.length], [...at, "mount"]);
    filesystems.push(out);
    mounts.set(fs.name, mountPath);
  });
  if (filesystems.length) storage.filesystems = filesystems;
  return mounts;
}

/** The 3.x path of a 2.x node, or undefined (error reported) when its filesystem cannot be placed. */
function placeNode(n: { filesystem?: string; path: string }, at: JsonPath, mounts: Map<string, string | undefined>, issues: IssueList): { path: string; prefix: string } | undefined {
  if (n.filesystem === undefined || n.filesystem === "") {
    issues.error([...at, "filesystem"], 'filesystem is required in spec 2.x (use "root" for the root filesystem)');
    return undefined;
  }
  if (!mounts.has(n.filesystem)) {
    issues.error([...at, "filesystem"], `no filesystem named ${JSON.stringify(n.filesystem)} is defined`);
    return undefined;
  }
  const prefix = mounts.get(n.filesystem);
  if (prefix === undefined) return undefined; // already reported on the filesystem
  if (n.path === undefined) return undefined;
  if (!n.path.startsWith("/")) return { path: n.path, prefix }; // left for validation to reject, unchanged
  return { path: joinPath(prefix, n.path), prefix };
}

function joinPath(prefix: string, p: string): string {
  return prefix === "/" ? p : prefix + p;
}

function owners(n: { user?: V2Owner; group?: V2Owner }): Pick<T.File, "user" | "group"> {
  const out: Pick<T.File, "user" | "group"> = {};
  if (n.user) out.user = { ...n.user };
  if (n.group) out.group = { ...n.group };
  return out;
}

function translateFiles(files: V2File[] | undefined, mounts: Map<string, string | undefined>, storage: T.Storage, issues: IssueList, origin: Origin): void {
  if (!files) return;
  const out: T.File[] = [];
  const byPath = new Map<string, number>();
  files.forEach((f, i) => {
    const at: JsonPath = ["storage", "files", i];
    const placed = placeNode(f, at, mounts, issues);
    if (!placed) return;
    const contents = resource(f.contents);
    if (f.append) {
      // 2.x appended each entry in turn; 3.x lists the fragments on one entry,
      // after the entry's own contents (an earlier whole-file entry for the path).
      let index = byPath.get(placed.path);
      if (index === undefined) {
        const created: T.File = { path: placed.path, ...owners(f) };
        if (f.mode !== undefined) created.mode = f.mode;
        index = out.length;
        origin(["storage", "files", index], at);
        out.push(created);
        byPath.set(placed.path, index);
      }
      const target = out[index]!;
      target.append ??= [];
      origin(["storage", "files", index, "append", target.append.length], [...at, "contents"]);
      target.append.push(contents ?? {});
      return;
    }
    // In 2.x a file is replaced unless overwrite is false; 3.x needs a source for that.
    const overwrite = f.overwrite ?? true;
    const file: T.File = { path: placed.path, overwrite, ...owners(f) };
    if (contents && Object.keys(contents).length) file.contents = contents;
    if (overwrite && file.contents?.source === undefined) file.contents = { ...file.contents, source: "data:," };
    if (f.mode !== undefined) file.mode = f.mode;
    // A second whole-file entry for a path stays a separate entry: validation reports the duplicate.
    if (!byPath.has(placed.path)) byPath.set(placed.path, out.length);
    origin(["storage", "files", out.length], at);
    out.push(file);
  });
  if (out.length) storage.files = out;
}

function translateNodes<N extends V2Directory | V2Link, R>(
  kind: "directories" | "links",
  nodes: N[] | undefined,
  mounts: Map<string, string | undefined>,
  issues: IssueList,
  origin: Origin,
  build: (n: N, base: { path: string; overwrite?: boolean; user?: T.NodeUser; group?: T.NodeGroup }, prefix: string) => R,
): R[] | undefined {
  if (!nodes) return undefined;
  const out: R[] = [];
  nodes.forEach((n, i) => {
    const at: JsonPath = ["storage", kind, i];
    const placed = placeNode(n, at, mounts, issues);
    if (!placed) return;
    origin(["storage", kind, out.length], at);
    out.push(build(n, { path: placed.path, ...(n.overwrite !== undefined ? { overwrite: n.overwrite } : {}), ...owners(n) }, placed.prefix));
  });
  return out;
}

/** networkd units become plain files: systemd-networkd reads /etc/systemd/network. */
function translateNetworkd(doc: V2Config, storage: T.Storage, issues: IssueList, origin: Origin): void {
  const units = doc.networkd?.units;
  if (!units?.length) return;
  // Translation builds arrays (a big 2.x config is read into objects, config/index.ts).
  const files = (storage.files ??= []) as T.File[];
  const add = (path: string, contents: string | undefined, from: JsonPath) => {
    origin(["storage", "files", files.length], from);
    files.push({ path, overwrite: true, contents: { source: "data:," + encodeURIComponent(contents ?? "") }, mode: 0o644 });
  };
  units.forEach((u, i) => {
    const at: JsonPath = ["networkd", "units", i];
    if (!/^[^/]+\.(network|netdev|link)$/.test(u.name)) {
      issues.error([...at, "name"], `networkd unit name must end in .network, .netdev or .link (got ${JSON.stringify(u.name)})`);
      return;
    }
    if (u.contents !== undefined) add(`/etc/systemd/network/${u.name}`, u.contents, at);
    u.dropins?.forEach((d, j) => add(`/etc/systemd/network/${u.name}.d/${d.name}`, d.contents, [...at, "dropins", j]));
  });
}
