// The record of a fetch run: which configs were used, from where, in which
// role, and on which platform. Never contents; sources are shown without
// data or query strings.

import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** Beside the cache. */
export const RECORD_FILE = "fetch-record.json";

export type SourceRole = "base" | "hostname" | "ssh-keys" | "platform" | "user" | "merge" | "replace" | "not-ignition";

/** The roles of a user config and the configs it references: Ignition's "user" configs (userConfigProvided). */
export const USER_CONFIG_ROLES: readonly SourceRole[] = ["platform", "user", "merge", "replace"];

export interface SourceRecord {
  role: SourceRole;
  /** A printable source: a path, or a URL as `describeSource` shows it. */
  source: string;
  bytes?: number;
  /** not-ignition: what the user data is instead (left to the OS). */
  kind?: string;
}

export interface FetchRecord {
  command: "fetch-offline" | "fetch";
  platform: string;
  sources: SourceRecord[];
}

/** fetch's record in `runDir`; undefined when no fetch left one there (or it cannot be read). */
async function readFetchRecord(runDir: string): Promise<Partial<FetchRecord> | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, RECORD_FILE), "utf8")) as Partial<FetchRecord>;
  } catch {
    return undefined;
  }
}

/** The platform fetch ran on, from its record in `runDir`; undefined when no fetch left one there. */
export async function recordedPlatform(runDir: string): Promise<string | undefined> {
  const record = await readFetchRecord(runDir);
  return typeof record?.platform === "string" ? record.platform : undefined;
}

/** Whether fetch used a user config (USER_CONFIG_ROLES), from its record in `runDir`; no record is no user config. */
export async function recordedUserConfig(runDir: string): Promise<boolean> {
  const sources = (await readFetchRecord(runDir))?.sources;
  return Array.isArray(sources) && sources.some((s) => USER_CONFIG_ROLES.includes(s.role));
}
