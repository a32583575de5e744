// What `systemctl --root R enable|disable` does to a root, computed by Flint
// itself from the units' [Install] sections: the symlinks in
// /etc/systemd/system for WantedBy=, RequiredBy=, UpheldBy= and Alias=,
// following Also= and DefaultInstance=, as systemd 252 makes them. Nothing is
// written here; the files stage writes what these plans list.

import { readdirSync, type Dirent } from "node:fs";
import { posix } from "node:path";
import { readRootText } from "../root/read";
import { inspectIfWalkable, openDirectory, readLinkInRoot, type RootDir } from "../root/resolve";
import { expandInstallSpecifiers, isInstance, isTemplate, parseUnitName, templateOf, withInstance, instanceOf } from "./unit-name";

/** Where `systemctl enable` puts its links. */
export const CONFIG_DIR = "/etc/systemd/system";

/** The system unit search path, in systemd's order (runtime generator directories have no meaning in an offline root). */
export const UNIT_PATH = [
  "/etc/systemd/system.control",
  "/run/systemd/system.control",
  "/run/systemd/transient",
  "/etc/systemd/system",
  "/etc/systemd/system.attached",
  "/run/systemd/system",
  "/run/systemd/system.attached",
  "/usr/local/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
];

export interface InstallSection {
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  also: string[];
  alias: string[];
  defaultInstance?: string;
}

const LIST_KEYS: Record<string, keyof Omit<InstallSection, "defaultInstance">> = {
  WantedBy: "wantedBy",
  RequiredBy: "requiredBy",
  UpheldBy: "upheldBy",
  Also: "also",
  Alias: "alias",
};

/** The [Install] section of a unit file, with systemd's syntax: comments, `\` continuations, an empty value resetting a list. */
export function parseInstallSection(text: string): InstallSection {
  const out: InstallSection = { wantedBy: [], requiredBy: [], upheldBy: [], also: [], alias: [] };
  let section = "";
  let pending = "";
  for (const raw of text.split("\n")) {
    let line = pending + raw.replace(/\r$/, "");
    pending = "";
    if (line.endsWith("\\")) {
      pending = line.slice(0, -1) + " ";
      continue;
    }
    line = line.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      section = line.endsWith("]") ? line.slice(1, -1) : "";
      continue;
    }
    if (section !== "Install") continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === "DefaultInstance") {
      out.defaultInstance = value || undefined;
      continue;
    }
    const list = LIST_KEYS[key];
    if (!list) continue;
    if (value === "") out[list] = [];
    else out[list].push(...value.split(/\s+/).map((w) => w.replace(/^"(.*)"$/, "$1")).filter(Boolean));
  }
  return out;
}

/** Units the config writes in this run (by name), which count whatever the disk holds yet. */
export interface ConfigUnits {
  contents: Map<string, string>;
  masked: Set<string>;
}

export type UnitFile =
  | { state: "found"; name: string; path: string; install: InstallSection }
  | { state: "masked"; name: string }
  | { state: "missing"; name: string };

/**
 * Finds a unit the way systemd's install logic does: the first directory of
 * the search path that has the name (or, for an instance, its template); a
 * link to /dev/null is a mask; a symlink is followed to the file it names,
 * and a link to another unit of the search path is an alias of that unit.
 */
export async function findUnitFile(root: string, name: string, config: ConfigUnits): Promise<UnitFile> {
  for (const candidate of [name, templateOf(name)].filter((n): n is string => n !== undefined)) {
    if (config.masked.has(candidate)) return { state: "masked", name };
    const text = config.contents.get(candidate);
    if (text !== undefined) return { state: "found", name, path: posix.join(CONFIG_DIR, candidate), install: parseInstallSection(text) };
    for (const dir of UNIT_PATH) {
      const found = await lookIn(root, dir, candidate, name);
      if (found) return found;
    }
  }
  return { state: "missing", name };
}

async function lookIn(root: string, dir: string, file: string, name: string): Promise<UnitFile | undefined> {
  const at = inspectIfWalkable(root, posix.join(dir, file));
  if (!at?.stat) return undefined;
  if (at.stat.isSymbolicLink()) {
    if (readLinkInRoot(root, at.rootPath) === "/dev/null") return { state: "masked", name };
  }
  const real = inspectIfWalkable(root, at.rootPath, { followLast: true });
  if (!real?.stat?.isFile()) return undefined;
  const realName = posix.basename(real.rootPath);
  // An alias (a link to another unit in the search path) stands for that unit.
  const aliasOf = realName !== file && UNIT_PATH.includes(posix.dirname(real.rootPath)) && parseUnitName(realName) ? realName : undefined;
  const unitName = aliasOf ? (isTemplate(aliasOf) && isInstance(name) ? withInstance(aliasOf, instanceOf(name)!) : aliasOf) : name;
  const install = parseInstallSection(readRootText(root, real.rootPath));
  return { state: "found", name: unitName, path: real.rootPath, install };
}

export interface InstallLink {
  /** The link, inside the root. */
  path: string;
  /** What it points to: the unit file's path inside the root. */
  target: string;
  /** The unit (as named in the config, or through Also=) the link belongs to. */
  unit: string;
}

export interface EnablePlan {
  links: InstallLink[];
  /** Units the root does not have (yet): named in the config, or through Also=. */
  missing: { name: string; via?: string }[];
  masked: string[];
  /** Why some [Install] entry made no link, as systemctl would warn. */
  notes: string[];
}

/** The links `systemctl enable NAMES...` would make, units from Also= included. */
export async function planEnable(root: string, names: string[], config: ConfigUnits): Promise<EnablePlan> {
  const plan: EnablePlan = { links: [], missing: [], masked: [], notes: [] };
  const queue: { name: string; via?: string }[] = names.map((name) => ({ name }));
  const seen = new Set<string>();
  const made = new Set<string>();
  const link = (path: string, target: string, unit: string): void => {
    if (made.has(path)) return;
    made.add(path);
    plan.links.push({ path, target, unit });
  };
  while (queue.length) {
    const { name, via } = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const unit = await findUnitFile(root, name, config);
    if (unit.state === "missing") {
      plan.missing.push({ name, via });
      continue;
    }
    if (unit.state === "masked") {
      plan.masked.push(name);
      continue;
    }
    const owner = via ?? name;
    const { install } = unit;
    // A bare template is enabled under its default instance, if it has one.
    const enabledAs = isTemplate(unit.name) && install.defaultInstance ? withInstance(unit.name, install.defaultInstance) : unit.name;

    for (const alias of install.alias) {
      let aliasName = expandInstallSpecifiers(alias, unit.name);
      if (aliasName && isTemplate(aliasName) && isInstance(unit.name)) aliasName = withInstance(aliasName, instanceOf(unit.name)!);
      const ok = aliasName && parseUnitName(aliasName)?.suffix === parseUnitName(unit.name)?.suffix && aliasName !== unit.name;
      if (!ok) {
        plan.notes.push(`${unit.name}: Alias=${alias} is not a valid alias; skipped`);
        continue;
      }
      link(posix.join(CONFIG_DIR, aliasName!), unit.path, owner);
    }

    for (const [suffix, list] of [[".wants", install.wantedBy], [".requires", install.requiredBy], [".upholds", install.upheldBy]] as const) {
      for (const entry of list) {
        // Specifiers speak of the name enabled (the default instance for a bare template).
        const dst = expandInstallSpecifiers(entry, enabledAs);
        if (!dst || !parseUnitName(dst)) {
          plan.notes.push(`${unit.name}: ${entry} is not a unit name systemd can resolve before the first boot; skipped`);
          continue;
        }
        if (!isTemplate(dst) && isTemplate(enabledAs)) {
          plan.notes.push(`${unit.name}: a template without an instance cannot be wanted by ${dst}; enable an instance`);
          continue;
        }
        link(posix.join(CONFIG_DIR, dst + suffix, enabledAs), unit.path, owner);
      }
    }
    for (const also of install.also) queue.push({ name: also, via: owner });
  }
  return plan;
}

export interface DisablePlan {
  /** Links to remove, inside the root, with the unit each is credited to. */
  removals: { path: string; unit: string }[];
  missing: string[];
}

/**
 * The links `systemctl disable NAMES...` would remove from /etc/systemd/system:
 * every link named after a unit (or its template), or leading to a file of
 * that name, for the units and their Also= units; then, in turn, links
 * leading to a removed alias.
 */
export async function planDisable(root: string, names: string[], config: ConfigUnits): Promise<DisablePlan> {
  const marked = new Map<string, string>(); // name or path → the config unit it is credited to
  const missing: string[] = [];
  const queue: { name: string; owner: string; primary: boolean }[] = names.map((name) => ({ name, owner: name, primary: true }));
  while (queue.length) {
    const { name, owner, primary } = queue.shift()!;
    if (marked.has(name)) continue;
    const unit = await findUnitFile(root, name, config);
    if (unit.state === "missing" && primary) missing.push(name);
    if (unit.state === "missing" && !primary) continue;
    marked.set(name, owner);
    if (unit.state === "found") for (const also of unit.install.also) queue.push({ name: also, owner, primary: false });
  }

  const links = await symlinksUnder(root, CONFIG_DIR);
  const removals: { path: string; unit: string }[] = [];
  const removed = new Set<string>();
  for (let again = true; again; ) {
    again = false;
    for (const link of links) {
      if (removed.has(link)) continue;
      const base = posix.basename(link);
      let owner = marked.get(base) ?? marked.get(templateOf(base) ?? "");
      if (owner === undefined) {
        const dest = inspectIfWalkable(root, link, { followLast: true })?.rootPath;
        if (dest) owner = marked.get(dest) ?? marked.get(posix.basename(dest));
      }
      if (owner === undefined) continue;
      // A mask stays: Ignition only writes a preset line for a disabled unit, so a unit
      // both masked and disabled (or masked in the image) ends masked; only mask: false unmasks.
      if (readLinkInRoot(root, link) === "/dev/null") continue;
      removed.add(link);
      removals.push({ path: link, unit: owner });
      marked.set(link, owner);
      // A removed alias may itself be the target of other links.
      if (parseUnitName(base)) again = true;
    }
  }
  return { removals, missing };
}

/** Every symlink below `dir` in the root (paths inside the root); symlinked directories are not entered. */
async function symlinksUnder(root: string, dir: string): Promise<string[]> {
  const top = await Promise.resolve().then(() => openDirectory(root, dir)).catch(() => undefined);
  if (!top?.dir) return [];
  const out: string[] = [];
  // Each directory is entered through its parent's descriptor with O_NOFOLLOW: a swapped-in symlink is listed, never entered.
  const walk = (at: RootDir, where: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(at.self, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isSymbolicLink()) out.push(posix.join(where, e.name));
      else if (e.isDirectory()) {
        let sub: RootDir | undefined;
        try {
          sub = openDirectory(at.self, "/" + e.name, { noSymlinks: true }).dir;
        } catch {
          continue; // swapped for something else meanwhile
        }
        if (!sub) continue;
        try {
          walk(sub, posix.join(where, e.name));
        } finally {
          sub.close();
        }
      }
    }
  };
  try {
    walk(top.dir, dir);
  } finally {
    top.dir.close();
  }
  return out;
}
