// Users and groups as the future root knows them: its own /etc/passwd and
// /etc/group, never the initramfs's (which has different ids, or none).

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

/** The account file's text ("" when absent); a FIFO or other non-file there is refused, never waited on. */
async function readRootFile(root: string, path: string): Promise<string> {
  return readRootText(root, path);
}

function records(text: string): string[][] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

export async function readUsers(root: string): Promise<RootUser[]> {
  return records(await readRootFile(root, "/etc/passwd"))
    .filter((f) => f.length >= 7)
    .map(([name, , uid, gid, , home, shell]) => ({ name: name!, uid: Number(uid), gid: Number(gid), home: home!, shell: shell! }));
}

export async function readGroups(root: string): Promise<RootGroup[]> {
  return records(await readRootFile(root, "/etc/group"))
    .filter((f) => f.length >= 3)
    .map(([name, , gid, members]) => ({ name: name!, gid: Number(gid), members: (members ?? "").split(",").filter(Boolean) }));
}

export async function findUser(root: string, name: string): Promise<RootUser | undefined> {
  return (await readUsers(root)).find((u) => u.name === name);
}

export async function findGroup(root: string, name: string): Promise<RootGroup | undefined> {
  return (await readGroups(root)).find((g) => g.name === name);
}

/** The uid of `name` in the root, or a clear error naming where it was wanted. */
export async function uidOf(root: string, name: string, where: string): Promise<number> {
  const user = await findUser(root, name);
  if (!user) throw new FlintError(`user ${JSON.stringify(name)} does not exist in the root's /etc/passwd`, where);
  return user.uid;
}

export async function gidOf(root: string, name: string, where: string): Promise<number> {
  const group = await findGroup(root, name);
  if (!group) throw new FlintError(`group ${JSON.stringify(name)} does not exist in the root's /etc/group`, where);
  return group.gid;
}

export interface RootUserDetails extends RootUser {
  gecos: string;
  /** The hash field of /etc/shadow; never logged. */
  passwordHash?: string;
}

/** A user with its gecos and shadow hash, for deciding whether usermod has anything to do. */
export async function userDetails(root: string, name: string): Promise<RootUserDetails | undefined> {
  const entry = records(await readRootFile(root, "/etc/passwd")).find((f) => f[0] === name && f.length >= 7);
  if (!entry) return undefined;
  const shadow = records(await readRootFile(root, "/etc/shadow")).find((f) => f[0] === name);
  return { name, uid: Number(entry[2]), gid: Number(entry[3]), gecos: entry[4]!, home: entry[5]!, shell: entry[6]!, passwordHash: shadow?.[1] };
}

/** A group's shadow password hash from /etc/gshadow; never logged. */
export async function groupPasswordHash(root: string, name: string): Promise<string | undefined> {
  return records(await readRootFile(root, "/etc/gshadow")).find((f) => f[0] === name)?.[1];
}
