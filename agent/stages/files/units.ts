// systemd.units: unit files and drop-ins under /etc/systemd/system, masks
// (a link to /dev/null), and enablement twice over: the [Install] symlinks
// made now by `systemctl --root` and a preset line, so that a machine whose
// /etc is reset and re-presetted gets the same answer.

import { readlink } from "node:fs/promises";
import type { File, Link, Unit } from "../../config/types";
import { FlintError } from "../../errors";
import { inspectInRoot } from "../../root/resolve";
import { removeNode } from "../../root/write";
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
  for (const unit of toggled) {
    const verb = unit.enabled ? "enable" : "disable";
    if (ctx.dryRun) {
      // A plan asks systemctl how things stand and announces only a change.
      const state = await systemctl.unitFileState(ctx.root, unit.name);
      if (unit.enabled ? state !== "enabled" : state === "enabled") record(ctx, verb, unit.name);
      continue;
    }
    const changes = unit.enabled ? await systemctl.enableUnit(ctx.root, unit.name) : await systemctl.disableUnit(ctx.root, unit.name);
    if (changes.length) record(ctx, verb, unit.name);
    for (const c of changes) record(ctx, c.kind, c.path, c.target ? `-> ${c.target}` : undefined);
  }
  const preset = ["# Written by Flint from the provisioning config.", ...toggled.map((u) => `${u.enabled ? "enable" : "disable"} ${u.name}`), ""].join("\n");
  const file: File = { path: PRESET_FILE, contents: inlineContents(preset), mode: 0o644, overwrite: true };
  await applyEntry(w, { kind: "file", node: file, where: "systemd.units" });
}

/** `mask: false` undoes a mask: a link to /dev/null at the unit's path goes away. */
async function unmask(w: NodeWriter, path: string): Promise<void> {
  const at = await inspectInRoot(w.ctx.root, path);
  if (!at.stat?.isSymbolicLink() || (await readlink(at.hostPath)) !== "/dev/null") return;
  record(w.ctx, "unmask", path);
  if (!w.ctx.dryRun) await removeNode(at.hostPath);
}
