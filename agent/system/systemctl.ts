// systemctl used offline on the future root (`--root`): it creates and
// removes the [Install] symlinks exactly as the booted system's systemctl
// would, including Alias=, Also= and template DefaultInstance=.

import { run } from "./exec";

export interface InstallChange {
  kind: "link" | "unlink";
  /** Path inside the root. */
  path: string;
  target?: string;
}

/** systemctl prints `Created symlink A → B.` and `Removed "A".`; these become changes. */
function parseChanges(output: string, root: string): InstallChange[] {
  const inRoot = (p: string): string => (p.startsWith(root + "/") ? p.slice(root.length) : p);
  const changes: InstallChange[] = [];
  for (const line of output.split("\n")) {
    const created = /^Created symlink (.+?) → (.+?)\.?$/.exec(line.trim());
    if (created) changes.push({ kind: "link", path: inRoot(created[1]!), target: created[2]! });
    const removed = /^Removed "?(.+?)"?\.?$/.exec(line.trim());
    if (removed) changes.push({ kind: "unlink", path: inRoot(removed[1]!) });
  }
  return changes;
}

export async function enableUnit(root: string, unit: string): Promise<InstallChange[]> {
  const result = await run("systemctl", ["--root", root, "--no-reload", "enable", unit]);
  return parseChanges(result.stdout + "\n" + result.stderr, root);
}

export async function disableUnit(root: string, unit: string): Promise<InstallChange[]> {
  const result = await run("systemctl", ["--root", root, "--no-reload", "disable", unit]);
  return parseChanges(result.stdout + "\n" + result.stderr, root);
}

/**
 * Enables (or disables) several units with one systemctl run: the same links
 * as one run per unit, in a fraction of the time. Each change is credited to
 * the units it names (the link itself, or the unit file it points to).
 */
export async function toggleUnits(root: string, verb: "enable" | "disable", units: string[]): Promise<{ all: InstallChange[]; byUnit: Map<string, InstallChange[]> }> {
  const result = await run("systemctl", ["--root", root, "--no-reload", verb, ...units]);
  const changes = parseChanges(result.stdout + "\n" + result.stderr, root);
  const byUnit = new Map(units.map((u): [string, InstallChange[]] => [u, []]));
  const base = (p: string | undefined): string => (p ?? "").split("/").pop()!;
  for (const change of changes) {
    for (const unit of units) {
      if (base(change.path) === unit || base(change.target) === unit) byUnit.get(unit)!.push(change);
    }
  }
  return { all: changes, byUnit };
}

/** `enabled`, `disabled`, `static`, `masked`…, or `not-found` when the root has no such unit. */
export async function unitFileState(root: string, unit: string): Promise<string> {
  const result = await run("systemctl", ["--root", root, "is-enabled", unit], { okCodes: [1, 4] });
  return result.stdout.trim().split("\n")[0] || "not-found";
}
