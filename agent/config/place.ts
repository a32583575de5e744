// Names a place in a config the way a person can find it: the document it
// came from, the JSON path inside that document with line and column, and
// the file, device, unit or user the entry is about. Used for errors found at
// stage time, when the config is the merged result of several documents.

import type { JsonPath } from "./issues";
import { locateInSources, type SourceTree } from "./sources";
import type { Config } from "./types";

const TOP_LEVEL = new Set(["ignition", "kernelArguments", "passwd", "storage", "systemd"]);

/** `storage.files.2.contents` as a path; undefined when `where` is not a config path (a device, a URL). */
export function parseConfigPath(where: string): JsonPath | undefined {
  const parts = where.split(".");
  if (!TOP_LEVEL.has(parts[0]!) || parts.some((p) => p === "")) return undefined;
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** What each kind of list entry is about, and the field that names it. */
const SUBJECTS: Record<string, [noun: string, fields: string[]]> = {
  files: ["file", ["path"]],
  directories: ["directory", ["path"]],
  links: ["link", ["path"]],
  disks: ["disk", ["device"]],
  partitions: ["partition", ["label", "number"]],
  raid: ["RAID array", ["name"]],
  luks: ["LUKS volume", ["name"]],
  filesystems: ["filesystem", ["device"]],
  units: ["unit", ["name"]],
  dropins: ["drop-in", ["name"]],
  users: ["user", ["name"]],
  groups: ["group", ["name"]],
};

/** `file /etc/motd`, `disk /dev/vda partition ROOT`: what the entries along `path` are about. */
function subjectOf(config: Config, path: JsonPath): string | undefined {
  const names: string[] = [];
  let value: unknown = config;
  for (let i = 0; i < path.length && value !== undefined; i++) {
    value = (value as Record<string | number, unknown> | null)?.[path[i]!];
    const subject = typeof path[i] === "number" ? SUBJECTS[String(path[i - 1])] : undefined;
    if (!subject || typeof value !== "object" || value === null) continue;
    const name = subject[1].map((f) => (value as Record<string, unknown>)[f]).find((v) => typeof v === "string" || typeof v === "number");
    if (name !== undefined && name !== "") names.push(`${subject[0]} ${name}`);
  }
  return names.length ? names.join(" ") : undefined;
}

/**
 * `merged config https://host/x.ign: storage.files.0.contents (line 7, column 20), file /etc/motd`
 * for the config path `where` of the assembled `config`; undefined when `where` is not a config path.
 */
export function describePlace(config: Config, where: string, sources?: SourceTree): string | undefined {
  const path = parseConfigPath(where);
  if (!path) return undefined;
  const located = sources ? locateInSources(sources, path) : undefined;
  const position = located?.position ? ` (line ${located.position.line}, column ${located.position.column})` : "";
  const place = located ? `${located.document}: ${located.path.join(".")}${position}` : where;
  const subject = subjectOf(config, path);
  return subject ? `${place}, ${subject}` : place;
}
