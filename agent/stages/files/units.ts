// systemd.units: unit files and drop-ins under /etc/systemd/system, masks
// (a link to /dev/null), and enablement twice over: the [Install] symlinks
// Flint makes itself now (as `systemctl --root` would, without running it)
// and a preset line, so that a unit the root does not have yet (a sysext
// brings it later) or a machine whose /etc is reset and re-presetted gets
// the same answer. A unit that is not there is never an error: its preset
// line is written and its links wait for the first `preset-all`.

import { posix } from "node:path";
import type { File, Link, Unit } from "../../config/types";
import { FlintError } from "../../errors";
import { log } from "../../log";
import { inspectIfWalkable, inspectInRoot, listDirectoryInRoot, readLinkInRoot } from "../../root/resolve";
import { removeEmptyDirectoryInRoot, removeInRoot } from "../../root/write";
import { planDisable, planEnable, UNIT_PATH, type ConfigUnits } from "../../systemd/install";
import { dropinNameProblem, instanceOf, templateOf, unitNameProblem } from "../../systemd/unit-name";
import { applyEntry, flushBatch, type NodeWriter } from "./nodes";
import { record } from "./record";

export const UNIT_DIR = "/etc/systemd/system";
/** Ignition's name: the OS and its users look for this file. */
export const PRESET_FILE = "/etc/systemd/system-preset/20-ignition.preset";

function inlineContents(text: string): File["contents"] {
  return { source: `data:;base64,${Buffer.from(text, "utf8").toString("base64")}` };
}

/** The validator's rules again: a name that reached here unvalidated must not become a path. */
function checkName(problem: string | undefined, where: string): void {
  if (problem) throw new FlintError(problem, where);
}

/** Empty contents write nothing, as in Ignition. */
const hasContents = (text: string | undefined): text is string => text !== undefined && text !== "";

export async function applyUnits(w: NodeWriter, units: Unit[]): Promise<void> {
  units.forEach((u, i) => {
    checkName(unitNameProblem(u.name ?? ""), `systemd.units.${i}.name`);
    (u.dropins ?? []).forEach((d, j) => checkName(dropinNameProblem(d.name ?? ""), `systemd.units.${i}.dropins.${j}.name`));
  });

  for (const [i, unit] of units.entries()) {
    const where = `systemd.units.${i}`;
    const path = `${UNIT_DIR}/${unit.name}`;
    if (unit.mask) {
      const mask: Link = { path, target: "/dev/null", overwrite: true };
      await applyEntry(w, { kind: "link", node: mask, where });
    } else {
      if (unit.mask === false) await unmask(w, path);
      if (hasContents(unit.contents)) {
        const file: File = { path, contents: inlineContents(unit.contents), mode: 0o644, overwrite: true };
        await applyEntry(w, { kind: "file", node: file, where: `${where}.contents` });
      }
    }
    for (const [j, dropin] of (unit.dropins ?? []).entries()) {
      // Unlike a unit's, an empty drop-in is written (an empty file), as in Ignition; only an absent one is not.
      if (dropin.contents === undefined) continue;
      const file: File = { path: `${path}.d/${dropin.name}`, contents: inlineContents(dropin.contents), mode: 0o644, overwrite: true };
      await applyEntry(w, { kind: "file", node: file, where: `${where}.dropins.${j}` });
    }
    // (Enabling and disabling say so themselves, below.)
    if (unit.enabled === undefined && !unit.mask && !hasContents(unit.contents) && unit.dropins?.length && !(await inRoot(w.ctx.root, unit.name))) {
      log.info(`unit ${unit.name} is not in the root yet: its drop-ins are written for when it arrives`);
    }
  }

  const toggled = units.filter((u) => u.enabled !== undefined);
  if (toggled.length === 0) return;
  const config: ConfigUnits = {
    contents: new Map(units.filter((u) => !u.mask && hasContents(u.contents)).map((u) => [u.name, u.contents!])),
    masked: new Set(units.filter((u) => u.mask).map((u) => u.name)),
  };
  // In config order; a disable sees the links an earlier enable made.
  for (const run of stretches(toggled)) {
    const names = run.map((u) => u.name);
    if (run[0]!.enabled) await enable(w, names, config);
    else {
      await flushBatch(w);
      await disable(w, names, config);
    }
  }
  const file: File = { path: PRESET_FILE, contents: inlineContents(presetText(toggled)), mode: 0o644, overwrite: true };
  await applyEntry(w, { kind: "file", node: file, where: "systemd.units" });
}

/** Whether the root has the unit (or its template) anywhere in systemd's search path. */
async function inRoot(root: string, name: string): Promise<boolean> {
  for (const candidate of [name, templateOf(name)]) {
    if (!candidate) continue;
    for (const dir of UNIT_PATH) {
      if (inspectIfWalkable(root, `${dir}/${candidate}`)?.stat) return true;
    }
  }
  return false;
}

async function enable(w: NodeWriter, names: string[], config: ConfigUnits): Promise<void> {
  const { ctx } = w;
  const plan = await planEnable(ctx.root, names, config);
  for (const { name, via } of plan.missing) {
    if (via) log.info(`unit ${name} (Also= of ${via}) is not in the root; skipped`);
    else log.info(`unit ${name} is not in the root yet: enabled by its preset line when it arrives`);
  }
  for (const name of plan.masked) log.info(`unit ${name} is masked: no links made; its preset line is written`);
  for (const note of plan.notes) log.warn(note);
  const announced = new Set<string>();
  for (const link of plan.links) {
    const at = inspectInRoot(ctx.root, link.path);
    if (at.stat?.isSymbolicLink() && readLinkInRoot(ctx.root, link.path) === link.target) continue;
    // An alias taken by something else stays, as systemctl leaves it (without --force).
    if (at.stat && posix.dirname(link.path) === UNIT_DIR) {
      log.warn(`${link.path} already exists and is not a link to ${link.target}: alias of ${link.unit} not made`);
      continue;
    }
    if (!announced.has(link.unit)) {
      announced.add(link.unit);
      record(ctx, "enable", link.unit);
    }
    await applyEntry(w, { kind: "link", node: { path: link.path, target: link.target, overwrite: true }, where: `systemd.units (${link.unit})` });
  }
}

async function disable(w: NodeWriter, names: string[], config: ConfigUnits): Promise<void> {
  const { ctx } = w;
  const plan = await planDisable(ctx.root, names, config);
  for (const name of plan.missing) log.info(`unit ${name} is not in the root: its preset line says disable`);
  const announced = new Set<string>();
  for (const { path, unit } of plan.removals) {
    if (!announced.has(unit)) {
      announced.add(unit);
      record(ctx, "disable", unit);
    }
    record(ctx, "unlink", path);
    if (!ctx.dryRun) removeInRoot(ctx.root, path);
  }
  // A .wants/.requires directory left empty goes too, as systemctl removes it.
  const parents = new Set(plan.removals.map((r) => posix.dirname(r.path)).filter((d) => d !== UNIT_DIR));
  for (const dir of parents) {
    const at = inspectInRoot(ctx.root, dir);
    if (!at.stat?.isDirectory()) continue;
    const left = listDirectoryInRoot(ctx.root, dir).filter((n) => !plan.removals.some((r) => r.path === posix.join(dir, n)));
    if (left.length) continue;
    record(ctx, "rmdir", dir);
    if (!ctx.dryRun) removeEmptyDirectoryInRoot(ctx.root, dir);
  }
}

/**
 * The preset file as Ignition writes it: one line per unit, the instances of
 * one template on the template's line (`enable foo@.service bar baz`, as
 * preset-all reads them), no comment, lines sorted as Ignition sorts them
 * (by unit, then "disabled" before "enabled").
 */
export function presetText(units: Unit[]): string {
  const lines = new Map<string, { text: string; order: string; instances: string[] }>();
  for (const unit of units) {
    const verb = unit.enabled ? "enable" : "disable";
    const template = templateOf(unit.name);
    // A bare template (its DefaultInstance) keeps a line of its own: instances on its line would replace it.
    const key = template ? `${verb} ${template}` : `${verb} ${unit.name}\0`;
    const line = lines.get(key) ?? { text: `${verb} ${template ?? unit.name}`, order: `${template ?? unit.name}-${verb}d`, instances: [] };
    lines.set(key, line);
    const instance = template ? instanceOf(unit.name)! : undefined;
    if (instance && !line.instances.includes(instance)) line.instances.push(instance);
  }
  const sorted = [...lines.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return sorted.map((l) => [l.text, ...l.instances].join(" ") + "\n").join("");
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
  if (readLinkInRoot(w.ctx.root, path) !== "/dev/null") return;
  record(w.ctx, "unmask", path);
  if (!w.ctx.dryRun) removeInRoot(w.ctx.root, path);
}
