// The record of a fetch run: which configs were used, from where, in which
// role. Never contents; sources are shown without data or query strings.

export type SourceRole = "base" | "hostname" | "ssh-keys" | "platform" | "user" | "merge" | "replace";

export interface SourceRecord {
  role: SourceRole;
  /** A printable source: a path, or a URL as `describeSource` shows it. */
  source: string;
  bytes?: number;
}

export interface FetchRecord {
  command: "fetch-offline" | "fetch";
  platform: string;
  sources: SourceRecord[];
}
