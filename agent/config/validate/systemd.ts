// Validation of systemd units and drop-ins: names, unit file syntax, duplicates.

import type { JsonPath } from "../issues";
import type { Dropin, Systemd, Unit } from "../types";
import { checkUnique, type ValidateContext } from "./common";

const UNIT_TYPES = ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "snapshot", "slice", "scope"];

export function validateSystemd(cx: ValidateContext, s: Systemd, path: JsonPath): void {
  s.units?.forEach((u, i) => validateUnit(cx, u, [...path, "units", i]));
  checkUnique(cx, s.units, [...path, "units"], (u) => u.name, "name", "unit");
  checkInstances(cx, s, path);
}

const hasInstallSection = (contents: string) => /^\s*\[Install\]\s*$/m.test(contents);

/** An enabled instance (a@x.service) of a template defined here without [Install] cannot be enabled. */
function checkInstances(cx: ValidateContext, s: Systemd, path: JsonPath): void {
  const templates = new Map<string, string>();
  for (const u of s.units ?? []) if (u.name && /@\./.test(u.name) && u.contents !== undefined) templates.set(u.name, u.contents);
  if (templates.size === 0) return;
  s.units!.forEach((u, i) => {
    const m = /^([^@]+)@[^@.]+(\.[^.]+)$/.exec(u.name ?? "");
    if (!m || u.enabled !== true) return;
    const template = `${m[1]}@${m[2]}`;
    const contents = templates.get(template);
    if (contents !== undefined && !hasInstallSection(contents)) cx.issues.warn([...path, "units", i, "contents"], `template unit ${template} for ${u.name} has no [Install] section, so enabling does nothing`);
  });
}

export function validateUnit(cx: ValidateContext, u: Unit, path: JsonPath): void {
  if (u.name !== undefined) {
    const dot = u.name.lastIndexOf(".");
    const type = dot === -1 ? "" : u.name.slice(dot + 1);
    if (u.name.includes("/")) cx.issues.error([...path, "name"], `unit name must not contain "/" (got ${JSON.stringify(u.name)})`);
    else if (dot <= 0 || !UNIT_TYPES.includes(type)) cx.issues.error([...path, "name"], `unit name must end in a unit type such as .service, .socket, .mount, .timer or .target (got ${JSON.stringify(u.name)})`);
    else if (u.name.startsWith("@")) cx.issues.error([...path, "name"], `invalid instantiated unit name ${JSON.stringify(u.name)}: nothing before "@"`);
  }
  if (u.contents !== undefined) {
    checkUnitSyntax(cx, u.contents, [...path, "contents"]);
    if (u.enabled === true && !hasInstallSection(u.contents)) cx.issues.warn([...path, "contents"], `unit ${u.name} is enabled, but has no [Install] section, so enabling does nothing`);
  }
  u.dropins?.forEach((d, i) => validateDropin(cx, d, [...path, "dropins", i]));
  checkUnique(cx, u.dropins, [...path, "dropins"], (d) => d.name, "name", "drop-in");
}

export function validateDropin(cx: ValidateContext, d: Dropin, path: JsonPath): void {
  if (d.name !== undefined) {
    if (d.name.includes("/")) cx.issues.error([...path, "name"], `drop-in name must not contain "/" (got ${JSON.stringify(d.name)})`);
    else if (!d.name.endsWith(".conf") || d.name === ".conf") cx.issues.error([...path, "name"], `drop-in name must end in ".conf" (got ${JSON.stringify(d.name)})`);
  }
  if (d.contents !== undefined) checkUnitSyntax(cx, d.contents, [...path, "contents"]);
}

/** systemd's unit file syntax (messages never quote the contents, which may hold secrets): `[Section]` headers, `Key=value` lines inside a section, comments, continuations. */
export function checkUnitSyntax(cx: ValidateContext, text: string, path: JsonPath): void {
  const lines = text.split("\n");
  let inSection = false;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      if (!/^\[[^\[\]]+\]$/.test(line)) {
        cx.issues.error(path, `unit line ${i + 1}: malformed [Section] header`);
        return;
      }
      inSection = true;
      continue;
    }
    const start = i;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    if (!inSection) {
      cx.issues.error(path, `unit line ${start + 1}: a setting comes before any [Section] header`);
      return;
    }
    if (!/^[A-Za-z0-9_.-]+\s*=/.test(line)) {
      cx.issues.error(path, `unit line ${start + 1}: expected Key=value, a [Section] header or a comment`);
      return;
    }
  }
}
