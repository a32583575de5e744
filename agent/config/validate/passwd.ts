// Validation of users and groups.

import { at, type Where } from "../issues";
import type { Passwd, PasswdGroup, PasswdUser } from "../types";
import { checkId, checkUnique, checkUniqueStrings, type ValidateContext } from "./common";

export function validatePasswd(cx: ValidateContext, p: Passwd, path: Where): void {
  p.users?.forEach((u, i) => validateUser(cx, u, at(path, "users", i)));
  checkUnique(cx, p.users, at(path, "users"), (u) => u.name, "name", "user");
  p.groups?.forEach((g, i) => validateGroup(cx, g, at(path, "groups", i)));
  checkUnique(cx, p.groups, at(path, "groups"), (g) => g.name, "name", "group");
}

/**
 * A hash becomes one field of a shadow line: a ":" or a line break would
 * split it into other fields or lines, and the tools would quote it back in
 * their error. The message never quotes the hash.
 */
function checkPasswordHash(cx: ValidateContext, hash: string | undefined, path: Where): void {
  if (hash === undefined) return;
  if (hash.includes(":")) cx.issues.error(path, 'password hash must not contain ":" (it separates the fields of /etc/shadow)');
  else if (/[\x00-\x1f\x7f]/.test(hash)) cx.issues.error(path, "password hash must not contain line breaks or other control characters");
}

export function validateUser(cx: ValidateContext, u: PasswdUser, path: Where): void {
  if (u.name === "") cx.issues.error(at(path, "name"), "name must not be empty");
  checkId(cx, u.uid, at(path, "uid"), "uid");
  checkPasswordHash(cx, u.passwordHash, at(path, "passwordHash"));
  checkUniqueStrings(cx, u.groups, at(path, "groups"), "group");
  // Keys are not quoted back: duplicates are named by position only.
  const seen = new Map<string, number>();
  u.sshAuthorizedKeys?.forEach((key, i) => {
    const first = seen.get(key);
    if (first !== undefined) cx.issues.error(at(path, "sshAuthorizedKeys", i), `duplicate SSH key (same as sshAuthorizedKeys.${first})`);
    else seen.set(key, i);
  });
}

export function validateGroup(cx: ValidateContext, g: PasswdGroup, path: Where): void {
  if (g.name === "") cx.issues.error(at(path, "name"), "name must not be empty");
  checkId(cx, g.gid, at(path, "gid"), "gid");
  checkPasswordHash(cx, g.passwordHash, at(path, "passwordHash"));
}
