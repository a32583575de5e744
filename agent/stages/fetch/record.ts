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

/** The platform fetch ran on, from its record in `runDir`; undefined when no fetch left one there. */
export async function recordedPlatform(runDir: string): Promise<string | undefined> {
  try {
    const record = JSON.parse(await readFile(join(runDir, RECORD_FILE), "utf8")) as Partial<FetchRecord>;
    return typeof record.platform === "string" ? record.platform : undefined;
  } catch {
    return undefined;
  }
}
