// Users and groups as the future root knows them: its own /etc/passwd and
// /etc/group, never the initramfs's (which has different ids, or none);
// each read through readRootText (a FIFO or other non-file is refused).

import { FlintError } from "../errors";
import { readRootText } from "./read";

export interface RootUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface RootGroup {
  name: string;
  gid: number;
  members: string[];
}

function records(text: string): string[][] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

export function readUsers(root: string): RootUser[] {
  return records(readRootText(root, "/etc/passwd"))
    .filter((f) => f.length >= 7)
    .map(([name, , uid, gid, , home, shell]) => ({ name: name!, uid: Number(uid), gid: Number(gid), home: home!, shell: shell! }));
}

export function readGroups(root: string): RootGroup[] {
  return records(readRootText(root, "/etc/group"))
    .filter((f) => f.length >= 3)
    .map(([name, , gid, members]) => ({ name: name!, gid: Number(gid), members: (members ?? "").split(",").filter(Boolean) }));
}

export function findUser(root: string, name: string): RootUser | undefined {
  return readUsers(root).find((u) => u.name === name);
}

export function findGroup(root: string, name: string): RootGroup | undefined {
  return readGroups(root).find((g) => g.name === name);
}

/** The uid of `name` in the root, or a clear error naming where it was wanted. */
export function uidOf(root: string, name: string, where: string): number {
  const user = findUser(root, name);
  if (!user) throw new FlintError(`user ${JSON.stringify(name)} does not exist in the root's /etc/passwd`, where);
  return user.uid;
}

export function gidOf(root: string, name: string, where: string): number {
  const group = findGroup(root, name);
  if (!group) throw new FlintError(`group ${JSON.stringify(name)} does not exist in the root's /etc/group`, where);
  return group.gid;
}

export interface RootUserDetails extends RootUser {
  gecos: string;
  /** The hash field of /etc/shadow; never logged. */
  passwordHash?: string;
}

/** A user with its gecos and shadow hash, for deciding whether usermod has anything to do. */
export function userDetails(root: string, name: string): RootUserDetails | undefined {
  const entry = records(readRootText(root, "/etc/passwd")).find((f) => f[0] === name && f.length >= 7);
  if (!entry) return undefined;
  const shadow = records(readRootText(root, "/etc/shadow")).find((f) => f[0] === name);
  return { name, uid: Number(entry[2]), gid: Number(entry[3]), gecos: entry[4]!, home: entry[5]!, shell: entry[6]!, passwordHash: shadow?.[1] };
}

/** A group's shadow password hash from /etc/gshadow; never logged. */
export function groupPasswordHash(root: string, name: string): string | undefined {
  return records(readRootText(root, "/etc/gshadow")).find((f) => f[0] === name)?.[1];
}
