// systemd.units: unit files and drop-ins under /etc/systemd/system, masks
// (a link to /dev/null), and enablement twice over: the [Install] symlinks
// made now by `systemctl --root` and a preset line, so that a machine whose
// /etc is reset and re-presetted gets the same answer.

import { readlink } from "node:fs/promises";
import type { File, Link, Unit } from "../../config/types";
import { FlintError } from "../../errors";
import { inspectInRoot } from "../../root/resolve";
import { removeNode } from "../../root/write";
import type { InstallChange } from "../../system/systemctl";
import { applyEntry, type NodeWriter } from "./nodes";
import { record } from "./record";

export const UNIT_DIR = "/etc/systemd/system";
export const PRESET_FILE = "/etc/systemd/system-preset/20-flint.preset";

function inlineContents(text: string): File["contents"] {
  return { source: `data:;base64,${Buffer.from(text, "utf8").toString("base64")}` };
}

function checkName(name: string, where: string): void {
  if (!name || name.includes("/") || name === "." || name === "..") throw new FlintError(`not a valid unit or drop-in name: ${JSON.stringify(name)}`, where);
}

export async function applyUnits(w: NodeWriter, units: Unit[]): Promise<void> {
  const { ctx } = w;
  units.forEach((u, i) => {
    checkName(u.name, `systemd.units.${i}.name`);
    (u.dropins ?? []).forEach((d, j) => checkName(d.name, `systemd.units.${i}.dropins.${j}.name`));
  });

  for (const [i, unit] of units.entries()) {
    const where = `systemd.units.${i}`;
    const path = `${UNIT_DIR}/${unit.name}`;
    if (unit.mask) {
      const mask: Link = { path, target: "/dev/null", overwrite: true };
      await applyEntry(w, { kind: "link", node: mask, where });
    } else {
      if (unit.mask === false) await unmask(w, path);
      if (unit.contents !== undefined) {
        const file: File = { path, contents: inlineContents(unit.contents), mode: 0o644, overwrite: true };
        await applyEntry(w, { kind: "file", node: file, where: `${where}.contents` });
      }
    }
    for (const [j, dropin] of (unit.dropins ?? []).entries()) {
      if (dropin.contents === undefined) continue;
      const file: File = { path: `${path}.d/${dropin.name}`, contents: inlineContents(dropin.contents), mode: 0o644, overwrite: true };
      await applyEntry(w, { kind: "file", node: file, where: `${where}.dropins.${j}` });
    }
  }

  const toggled = units.filter((u) => u.enabled !== undefined);
  if (toggled.length === 0) return;
  // systemctl reads the unit files: they must be in place, not pending.
  await w.batch.flush();
  const systemctl = await import("../../system/systemctl");
  if (ctx.dryRun) {
    for (const unit of toggled) {
      // A plan asks systemctl how things stand and announces only a change.
      const verb = unit.enabled ? "enable" : "disable";
      const state = await systemctl.unitFileState(ctx.root, unit.name);
      if (unit.enabled ? state !== "enabled" : state === "enabled") record(ctx, verb, unit.name);
    }
  } else {
    // One systemctl run per stretch of units with the same verb, in config order.
    for (const run of stretches(toggled)) {
      const verb = run[0]!.enabled ? "enable" : "disable";
      const names = run.map((u) => u.name);
      const { all, byUnit } = await systemctl.toggleUnits(ctx.root, verb, names);
      const noted = new Set<InstallChange>();
      const note = (c: InstallChange): void => {
        if (noted.has(c)) return;
        noted.add(c);
        record(ctx, c.kind, c.path, c.target ? `-> ${c.target}` : undefined);
      };
      for (const name of names) {
        const changes = byUnit.get(name) ?? [];
        if (changes.length) record(ctx, verb, name);
        changes.forEach(note);
      }
      all.forEach(note); // links no unit of the run names (Also=)
    }
  }
  const preset = ["# Written by Flint from the provisioning config.", ...toggled.map((u) => `${u.enabled ? "enable" : "disable"} ${u.name}`), ""].join("\n");
  const file: File = { path: PRESET_FILE, contents: inlineContents(preset), mode: 0o644, overwrite: true };
  await applyEntry(w, { kind: "file", node: file, where: "systemd.units" });
}

/** Consecutive units with the same `enabled` value. */
function stretches(units: Unit[]): Unit[][] {
  const out: Unit[][] = [];
  for (const unit of units) {
    const last = out[out.length - 1];
    if (last && last[0]!.enabled === unit.enabled) last.push(unit);
    else out.push([unit]);
  }
  return out;
}

/** `mask: false` undoes a mask: a link to /dev/null at the unit's path goes away. */
async function unmask(w: NodeWriter, path: string): Promise<void> {
  const at = await inspectInRoot(w.ctx.root, path);
  if (!at.stat?.isSymbolicLink() || (await readlink(at.hostPath)) !== "/dev/null") return;
  record(w.ctx, "unmask", path);
  if (!w.ctx.dryRun) await removeNode(at.hostPath);
}
