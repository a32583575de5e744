// Validation of a whole 3.x config: each section's own rules, then the rules
// that span sections (paths that collide with systemd units, kernel arguments).

import { at, IssueList, type JsonPath, type Where } from "../issues";
import type { Config, Ignition } from "../types";
import { checkUnique, checkUniqueStrings, type ValidateContext } from "./common";
import { validateNodes, type NodePathSet } from "./nodes";
import { validatePasswd } from "./passwd";
import { validateResource, validateUrl } from "./resource";
import { validateBlockStorage } from "./storage";
import { validateSystemd } from "./systemd";

export type { ValidateContext } from "./common";

/** Checks a typed config against the rules of spec 3.`minor`; appends to `issues`. */
export function validateConfig(config: Config, minor: number, issues = new IssueList()): IssueList {
  const cx: ValidateContext = { issues, minor };
  validateIgnition(cx, config.ignition, ["ignition"]);
  let nodePaths: NodePathSet | undefined;
  if (config.storage) {
    validateBlockStorage(cx, config.storage, ["storage"]);
    nodePaths = validateNodes(cx, config.storage, ["storage"]);
  }
  if (config.systemd) validateSystemd(cx, config.systemd, ["systemd"]);
  if (config.passwd) validatePasswd(cx, config.passwd, ["passwd"]);
  checkSystemdPathConflicts(cx, config, nodePaths);
  checkKernelArguments(cx, config);
  return issues;
}

function validateIgnition(cx: ValidateContext, ig: Ignition, path: Where): void {
  const merge = ig.config?.merge;
  merge?.forEach((r, i) => validateResource(cx, r, at(path, "config", "merge", i), { sourceRequired: true }));
  checkUnique(cx, merge, at(path, "config", "merge"), (r) => r.source, "source", "merged config source", false);
  const replace = ig.config?.replace;
  if (replace && Object.keys(replace).length > 0) validateResource(cx, replace, at(path, "config", "replace"), { sourceRequired: true });
  const cas = ig.security?.tls?.certificateAuthorities;
  cas?.forEach((r, i) => validateResource(cx, r, at(path, "security", "tls", "certificateAuthorities", i), { sourceRequired: true }));
  checkUnique(cx, cas, at(path, "security", "tls", "certificateAuthorities"), (r) => r.source, "source", "certificate authority source", false);
  const proxy = ig.proxy;
  checkUniqueStrings(cx, proxy?.noProxy, at(path, "proxy", "noProxy"), "noProxy entry");
  for (const key of ["httpProxy", "httpsProxy"] as const) {
    const url = proxy?.[key];
    if (url === undefined) continue;
    if (url === "") {
      cx.issues.error(at(path, "proxy", key), "a proxy URL must not be empty (leave the field out for no proxy)");
      continue;
    }
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
    if (scheme !== "http" && scheme !== "https") cx.issues.error(at(path, "proxy", key), `a proxy URL must be http or https, not ${scheme ?? "a URL without a scheme"}`);
    else {
      validateUrl(cx, url, at(path, "proxy", key));
      if (key === "httpsProxy" && scheme === "http") cx.issues.warn(at(path, "proxy", key), "a plain-HTTP proxy for HTTPS requests can see their hosts (the traffic itself stays encrypted)");
    }
  }
  for (const key of ["httpResponseHeaders", "httpTotal"] as const) {
    const t = ig.timeouts?.[key];
    if (t !== undefined && t < 0) cx.issues.error(at(path, "timeouts", key), `${key} must not be negative`);
  }
}

/** A file, link or directory written where a unit or drop-in with contents goes collides with it. */
function checkSystemdPathConflicts(cx: ValidateContext, config: Config, nodePaths: NodePathSet | undefined): void {
  const owned = new Map<string, JsonPath>();
  config.systemd?.units?.forEach((u, i) => {
    if (!u.name) return;
    if (u.contents !== undefined) owned.set(`/etc/systemd/system/${u.name}`, ["systemd", "units", i]);
    u.dropins?.forEach((d, j) => {
      if (d.contents !== undefined && d.name) owned.set(`/etc/systemd/system/${u.name}.d/${d.name}`, ["systemd", "units", i, "dropins", j]);
    });
  });
  if (owned.size === 0 || !config.storage || !nodePaths) return;
  // Every entry is looked at (and named) only when some path is one of the units'.
  let clash = false;
  for (const p of owned.keys()) if (nodePaths.has(p)) clash = true;
  if (!clash) return;
  for (const kind of ["files", "directories", "links"] as const) {
    let i = 0;
    for (const n of config.storage[kind] ?? []) {
      const unit = owned.get(n.path);
      if (unit) cx.issues.error(["storage", kind, i, "path"], `path ${n.path} is also written by ${unit.join(".")}`);
      i++;
    }
  }
}

function checkKernelArguments(cx: ValidateContext, config: Config): void {
  const k = config.kernelArguments;
  checkUniqueStrings(cx, k?.shouldExist, ["kernelArguments", "shouldExist"], "kernel argument");
  checkUniqueStrings(cx, k?.shouldNotExist, ["kernelArguments", "shouldNotExist"], "kernel argument");
  if (!k?.shouldExist || !k.shouldNotExist) return;
  const wanted = new Set(k.shouldExist);
  k.shouldNotExist.forEach((arg, i) => {
    if (wanted.has(arg)) cx.issues.error(["kernelArguments", "shouldNotExist", i], `kernel argument ${JSON.stringify(arg)} is in both shouldExist and shouldNotExist`);
  });
}
