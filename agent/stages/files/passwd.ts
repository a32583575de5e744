// passwd.groups and passwd.users, created, modified or deleted with the
// shadow tools against the root. An existing account is only touched for
// the fields that differ, so a second run changes nothing (not even the
// tools' `/etc/passwd-` backups).

import type { PasswdGroup, PasswdUser } from "../../config/types";
import { posix } from "node:path";
import { findGroup, findUser, groupPasswordHash, readGroups, userDetails } from "../../root/accounts";
import { checkRegularFiles, readRootText } from "../../root/read";
import { inspectInRoot } from "../../root/resolve";
import type { StageContext } from "../context";
import { CONFIG_FRAGMENT } from "./keys";
import { record } from "./record";

/** Puts a user's keys in place; supplied by the files stage (see index.ts). */
export type KeyInstaller = (user: PasswdUser, where: string) => Promise<void>;

/** Notes the action and, unless this is a plan, does it. */
async function act(ctx: StageContext, kind: string, target: string, detail: string | undefined, work: () => Promise<void>): Promise<void> {
  record(ctx, kind, target, detail);
  if (!ctx.dryRun) await work();
}

/** What the shadow tools read in the root: each must be a regular file (or absent), never a FIFO that hangs them. */
const SHADOW_INPUTS = ["/etc/login.defs", "/etc/default/useradd", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"];

export async function applyGroups(ctx: StageContext, groups: PasswdGroup[]): Promise<void> {
  if (groups.length) checkRegularFiles(ctx.root, SHADOW_INPUTS);
  const shadow = await import("../../system/shadow");
  for (const group of groups) {
    const existing = findGroup(ctx.root, group.name);
    if (group.shouldExist === false) {
      if (!existing) continue;
      await act(ctx, "groupdel", group.name, undefined, () => shadow.groupdel(ctx.root, group.name));
      continue;
    }
    if (!existing) {
      await act(ctx, "groupadd", group.name, group.gid !== undefined ? `gid=${group.gid}` : undefined, () => shadow.groupadd(ctx.root, group));
      continue;
    }
    const change: PasswdGroup = { name: group.name };
    const changed: string[] = [];
    if (group.gid !== undefined && group.gid !== existing.gid) {
      change.gid = group.gid;
      changed.push(`gid=${group.gid}`);
    }
    if (group.passwordHash !== undefined && (group.passwordHash || "*") !== groupPasswordHash(ctx.root, group.name)) {
      change.passwordHash = group.passwordHash;
      changed.push("password");
    }
    if (changed.length === 0) continue;
    await act(ctx, "groupmod", group.name, changed.join(" "), () => shadow.groupmod(ctx.root, change));
  }
}

export async function applyUsers(ctx: StageContext, users: PasswdUser[], installKeys: KeyInstaller): Promise<void> {
  if (users.length) checkRegularFiles(ctx.root, SHADOW_INPUTS);
  const shadow = await import("../../system/shadow");
  for (const [i, user] of users.entries()) {
    const where = `passwd.users.${i}`;
    const existing = userDetails(ctx.root, user.name);
    if (user.shouldExist === false) {
      if (!existing) continue;
      await act(ctx, "userdel", user.name, undefined, () => shadow.userdel(ctx.root, user.name));
      continue;
    }
    if (!existing) {
      await act(ctx, "useradd", user.name, user.uid !== undefined ? `uid=${user.uid}` : undefined, () => shadow.useradd(ctx.root, user));
    } else {
      const change = await userChanges(ctx.root, user, existing);
      if (change.changed.length > 0) {
        await act(ctx, "usermod", user.name, change.changed.join(" "), () => shadow.usermod(ctx.root, change.spec));
      }
    }
    if (user.sshAuthorizedKeys?.length && !(await keysInPlace(ctx.root, user))) {
      await act(ctx, "ssh-keys", user.name, `${user.sshAuthorizedKeys.length} key(s)`, () => installKeys(user, where));
    }
  }
}

/** The fields Ignition's usermod sets, kept only where the root differs. */
async function userChanges(root: string, user: PasswdUser, now: NonNullable<Awaited<ReturnType<typeof userDetails>>>): Promise<{ spec: PasswdUser; changed: string[] }> {
  const spec: PasswdUser = { name: user.name };
  const changed: string[] = [];
  if (user.homeDir && user.homeDir !== now.home) {
    spec.homeDir = user.homeDir;
    changed.push(`home=${user.homeDir}`);
  }
  if (user.passwordHash !== undefined && (user.passwordHash || "*") !== now.passwordHash) {
    spec.passwordHash = user.passwordHash;
    changed.push("password");
  }
  if (user.uid !== undefined && user.uid !== now.uid) {
    spec.uid = user.uid;
    changed.push(`uid=${user.uid}`);
  }
  if (user.gecos && user.gecos !== now.gecos) {
    spec.gecos = user.gecos;
    changed.push("gecos");
  }
  const groups = readGroups(root);
  if (user.primaryGroup) {
    const wanted = /^\d+$/.test(user.primaryGroup) ? Number(user.primaryGroup) : groups.find((g) => g.name === user.primaryGroup)?.gid;
    if (wanted !== now.gid) {
      spec.primaryGroup = user.primaryGroup;
      changed.push(`primaryGroup=${user.primaryGroup}`);
    }
  }
  if (user.groups?.length) {
    const current = groups.filter((g) => g.members.includes(user.name)).map((g) => g.name).sort();
    const wanted = [...new Set(user.groups)].sort();
    if (current.join(",") !== wanted.join(",")) {
      spec.groups = user.groups;
      changed.push(`groups=${wanted.join(",")}`);
    }
  }
  if (user.shell && user.shell !== now.shell) {
    spec.shell = user.shell;
    changed.push(`shell=${user.shell}`);
  }
  return { spec, changed };
}

/** Whether the user's `ignition` key fragment already holds exactly these keys (and authorized_keys exists). */
async function keysInPlace(root: string, user: PasswdUser): Promise<boolean> {
  const account = findUser(root, user.name);
  if (!account) return false;
  const fragment = inspectInRoot(root, posix.join(account.home, `.ssh/authorized_keys.d/${CONFIG_FRAGMENT}`));
  const merged = inspectInRoot(root, posix.join(account.home, ".ssh/authorized_keys"));
  if (!fragment.stat?.isFile() || !merged.stat?.isFile()) return false;
  const wanted = (user.sshAuthorizedKeys ?? []).map((k) => k.trim()).filter(Boolean).map((k) => k + "\n").join("");
  return readRootText(root, fragment.rootPath) === wanted;
}
