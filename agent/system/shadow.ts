// The shadow tools (useradd, usermod, userdel, groupadd, groupmod, groupdel)
// run against the future root with --root, so they read and write the
// root's own passwd, group, shadow and gshadow files and its login.defs.
// Password hashes are arguments here: they are always marked secret.

import type { PasswdGroup, PasswdUser } from "../config/types";
import { run } from "./exec";

/** The config's own user and group shapes: the tools take exactly those fields. */
export type UserSpec = Omit<PasswdUser, "sshAuthorizedKeys" | "shouldExist">;
export type GroupSpec = Omit<PasswdGroup, "shouldExist">;

/** Arguments with the positions of the secret ones, built together so they cannot drift. */
class Args {
  readonly list: string[] = [];
  readonly secret: number[] = [];
  add(...items: string[]): this {
    this.list.push(...items);
    return this;
  }
  addSecret(flag: string, value: string): this {
    this.list.push(flag);
    this.secret.push(this.list.length);
    this.list.push(value);
    return this;
  }
}

function commonUserArgs(args: Args, user: UserSpec): void {
  if (user.uid !== undefined) args.add("--uid", String(user.uid));
  if (user.gecos) args.add("--comment", user.gecos);
  if (user.primaryGroup) args.add("--gid", user.primaryGroup);
  if (user.groups?.length) args.add("--groups", user.groups.join(","));
  if (user.shell) args.add("--shell", user.shell);
}

/** Creates a user as Ignition does: password "*" (no password login) unless a hash is given. */
export async function useradd(root: string, user: UserSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (user.homeDir) args.add("--home-dir", user.homeDir);
  args.add(user.noCreateHome ? "--no-create-home" : "--create-home");
  if (user.noUserGroup) args.add("--no-user-group");
  if (user.system) args.add("--system");
  if (user.noLogInit) args.add("--no-log-init");
  args.addSecret("--password", user.passwordHash ? user.passwordHash : "*");
  commonUserArgs(args, user);
  args.add("--", user.name);
  await run("useradd", args.list, { secretArgs: args.secret });
}

/** Modifies an existing user: home (moved), password, uid, comment, groups, shell. */
export async function usermod(root: string, user: UserSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (user.homeDir) args.add("--home", user.homeDir, "--move-home");
  if (user.passwordHash !== undefined) args.addSecret("--password", user.passwordHash === "" ? "*" : user.passwordHash);
  commonUserArgs(args, user);
  args.add("--", user.name);
  await run("usermod", args.list, { secretArgs: args.secret });
}

export async function userdel(root: string, name: string): Promise<void> {
  await run("userdel", ["--root", root, "--", name]);
}

export async function groupadd(root: string, group: GroupSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (group.gid !== undefined) args.add("--gid", String(group.gid));
  args.addSecret("--password", group.passwordHash ? group.passwordHash : "*");
  if (group.system) args.add("--system");
  args.add("--", group.name);
  await run("groupadd", args.list, { secretArgs: args.secret });
}

export async function groupmod(root: string, group: GroupSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (group.gid !== undefined) args.add("--gid", String(group.gid));
  if (group.passwordHash !== undefined) args.addSecret("--password", group.passwordHash === "" ? "*" : group.passwordHash);
  args.add("--", group.name);
  await run("groupmod", args.list, { secretArgs: args.secret });
}

export async function groupdel(root: string, name: string): Promise<void> {
  await run("groupdel", ["--root", root, "--", name]);
}
