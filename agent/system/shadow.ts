// The shadow tools (useradd, usermod, userdel, groupadd, groupmod, groupdel,
// chpasswd, chgpasswd) run against the future root with --root, so they
// read and write the root's own passwd, group, shadow and gshadow files and
// its login.defs. A password hash never rides on a command line (where
// /proc/PID/cmdline shows it to every process while the tool runs):
// accounts are made with "*" (no password login), then the hash is set by
// chpasswd -e or chgpasswd -e, which read it from their standard input.

import type { PasswdGroup, PasswdUser } from "../config/types";
import { run } from "./exec";

/** The config's own user and group shapes: the tools take exactly those fields. */
export type UserSpec = Omit<PasswdUser, "sshAuthorizedKeys" | "shouldExist">;
export type GroupSpec = Omit<PasswdGroup, "shouldExist">;

class Args {
  readonly list: string[] = [];
  add(...items: string[]): this {
    this.list.push(...items);
    return this;
  }
}

/** Sets the hash of `name` through the tool's standard input ("" or none: "*", no password login). */
async function setHash(tool: "chpasswd" | "chgpasswd", root: string, name: string, hash: string): Promise<void> {
  await run(tool, ["--root", root, "--encrypted"], { input: `${name}:${hash || "*"}\n` });
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
  args.add("--password", "*");
  commonUserArgs(args, user);
  args.add("--", user.name);
  await run("useradd", args.list);
  if (user.passwordHash) await setHash("chpasswd", root, user.name, user.passwordHash);
}

/** Modifies an existing user: home (moved), password, uid, comment, groups, shell. */
export async function usermod(root: string, user: UserSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (user.homeDir) args.add("--home", user.homeDir, "--move-home");
  commonUserArgs(args, user);
  const fields = args.list.length > 2; // more than --root ROOT: something besides the password
  args.add("--", user.name);
  if (fields) await run("usermod", args.list);
  if (user.passwordHash !== undefined) await setHash("chpasswd", root, user.name, user.passwordHash);
}

export async function userdel(root: string, name: string): Promise<void> {
  await run("userdel", ["--root", root, "--", name]);
}

export async function groupadd(root: string, group: GroupSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (group.gid !== undefined) args.add("--gid", String(group.gid));
  args.add("--password", "*");
  if (group.system) args.add("--system");
  args.add("--", group.name);
  await run("groupadd", args.list);
  if (group.passwordHash) await setHash("chgpasswd", root, group.name, group.passwordHash);
}

export async function groupmod(root: string, group: GroupSpec): Promise<void> {
  const args = new Args().add("--root", root);
  if (group.gid !== undefined) args.add("--gid", String(group.gid));
  const fields = args.list.length > 2; // more than --root ROOT: something besides the password
  args.add("--", group.name);
  if (fields) await run("groupmod", args.list);
  if (group.passwordHash !== undefined) await setHash("chgpasswd", root, group.name, group.passwordHash);
}

export async function groupdel(root: string, name: string): Promise<void> {
  await run("groupdel", ["--root", root, "--", name]);
}
