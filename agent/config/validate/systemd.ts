// Validation of systemd units and drop-ins: names, unit file syntax, duplicates.

import { at, type Where } from "../issues";
import type { Dropin, Systemd, Unit } from "../types";
import { dropinNameProblem, unitNameDoubt, unitNameProblem } from "../../systemd/unit-name";
import { checkUnique, type ValidateContext } from "./common";


export function validateSystemd(cx: ValidateContext, s: Systemd, path: Where): void {
  s.units?.forEach((u, i) => validateUnit(cx, u, at(path, "units", i)));
  checkUnique(cx, s.units, at(path, "units"), (u) => u.name, "name", "unit");
  checkInstances(cx, s, path);
}

/**
 * Whether enabling a unit with these contents can do nothing, as Ignition
 * judges it: contents (not empty) with no setting in an [Install] section.
 * Empty contents (a unit that is only masked or given drop-ins) are not
 * warned about.
 */
function lacksInstall(contents: string): boolean {
  if (contents === "") return false;
  let section = "";
  for (const raw of contents.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) section = line;
    else if (section === "[Install]" && /^[A-Za-z0-9_.-]+\s*=/.test(line)) return false;
  }
  return true;
}

/** An enabled instance (a@x.service) of a template defined here without [Install] cannot be enabled. */
function checkInstances(cx: ValidateContext, s: Systemd, path: Where): void {
  const templates = new Map<string, string>();
  for (const u of s.units ?? []) if (u.name && /@\./.test(u.name) && u.contents !== undefined) templates.set(u.name, u.contents);
  if (templates.size === 0) return;
  s.units!.forEach((u, i) => {
    const m = /^([^@]+)@[^@.]+(\.[^.]+)$/.exec(u.name ?? "");
    if (!m || u.enabled !== true) return;
    const template = `${m[1]}@${m[2]}`;
    const contents = templates.get(template);
    if (contents !== undefined && lacksInstall(contents)) cx.issues.warn(at(path, "units", i, "contents"), `template unit ${template} for ${u.name} has no [Install] section, so enabling does nothing`);
  });
}

export function validateUnit(cx: ValidateContext, u: Unit, path: Where): void {
  if (u.name !== undefined) {
    const problem = unitNameProblem(u.name);
    const doubt = problem ? undefined : unitNameDoubt(u.name);
    if (problem) cx.issues.error(at(path, "name"), problem);
    else if (doubt) cx.issues.doubt(at(path, "name"), doubt);
  }
  if (u.contents !== undefined) {
    checkUnitSyntax(cx, u.contents, at(path, "contents"));
    if (u.enabled === true && lacksInstall(u.contents)) cx.issues.warn(at(path, "contents"), `unit ${u.name} is enabled, but has no [Install] section, so enabling does nothing`);
  }
  u.dropins?.forEach((d, i) => validateDropin(cx, d, at(path, "dropins", i)));
  checkUnique(cx, u.dropins, at(path, "dropins"), (d) => d.name, "name", "drop-in");
}

export function validateDropin(cx: ValidateContext, d: Dropin, path: Where): void {
  if (d.name !== undefined) {
    const problem = dropinNameProblem(d.name);
    if (problem) cx.issues.error(at(path, "name"), problem);
    else if (d.name.startsWith(".")) cx.issues.doubt(at(path, "name"), `systemd skips drop-ins whose names begin with "." (got ${JSON.stringify(d.name)})`);
  }
  if (d.contents !== undefined) checkUnitSyntax(cx, d.contents, at(path, "contents"));
}

/**
 * systemd's unit file syntax (messages never quote the contents, which may
 * hold secrets): `[Section]` headers, `Key=value` lines inside a section,
 * comments, continuations. Errors where Ignition's parser fails; lines before
 * any section, which Ignition's parser lets through, are a warning.
 */
export function checkUnitSyntax(cx: ValidateContext, text: string, path: Where): void {
  const lines = text.split("\n");
  let inSection = false;
  let warnedBefore = false;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      // As Ignition's unit parser: anything up to the first "]", and nothing after it.
      if (!/^\[[^\]]*\]$/.test(line)) {
        cx.issues.error(path, `unit line ${i + 1}: malformed [Section] header`);
        return;
      }
      inSection = true;
      continue;
    }
    const start = i;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    if (!inSection) {
      if (!warnedBefore) cx.issues.doubt(path, `unit line ${start + 1}: a setting comes before any [Section] header; systemd ignores it`);
      warnedBefore = true;
      continue;
    }
    // Ignition's unit parser takes any line with an "=" as a setting (systemd ignores one with a bad key).
    if (!line.includes("=")) {
      cx.issues.error(path, `unit line ${start + 1}: expected Key=value, a [Section] header or a comment`);
      return;
    }
  }
}
