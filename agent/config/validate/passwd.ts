// Validation of users and groups.

import type { JsonPath } from "../issues";
import type { Passwd, PasswdGroup, PasswdUser } from "../types";
import { checkId, checkUnique, type ValidateContext } from "./common";

export function validatePasswd(cx: ValidateContext, p: Passwd, path: JsonPath): void {
  p.users?.forEach((u, i) => validateUser(cx, u, [...path, "users", i]));
  checkUnique(cx, p.users, [...path, "users"], (u) => u.name, "name", "user");
  p.groups?.forEach((g, i) => validateGroup(cx, g, [...path, "groups", i]));
  checkUnique(cx, p.groups, [...path, "groups"], (g) => g.name, "name", "group");
}

export function validateUser(cx: ValidateContext, u: PasswdUser, path: JsonPath): void {
  if (u.name === "") cx.issues.error([...path, "name"], "name must not be empty");
  checkId(cx, u.uid, [...path, "uid"], "uid");
  // Keys are not quoted back: duplicates are named by position only.
  const seen = new Map<string, number>();
  u.sshAuthorizedKeys?.forEach((key, i) => {
    const first = seen.get(key);
    if (first !== undefined) cx.issues.error([...path, "sshAuthorizedKeys", i], `duplicate SSH key (same as sshAuthorizedKeys.${first})`);
    else seen.set(key, i);
  });
}

export function validateGroup(cx: ValidateContext, g: PasswdGroup, path: JsonPath): void {
  if (g.name === "") cx.issues.error([...path, "name"], "name must not be empty");
  checkId(cx, g.gid, [...path, "gid"], "gid");
}
