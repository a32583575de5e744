// Small parsers shared by platforms for what metadata services return.

import { FlintError } from "../errors";

/** Non-empty trimmed lines. */
export function lines(data: Buffer | undefined): string[] {
  if (!data) return [];
  return data.toString("utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

export function text(data: Buffer | undefined): string | undefined {
  const value = data?.toString("utf8").trim();
  return value ? value : undefined;
}

/** Parses a metadata document as JSON, with an error naming the platform (never the contents). */
export function json(data: Buffer | undefined, what: string): unknown {
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString("utf8"));
  } catch (e) {
    throw new FlintError(`not valid JSON (${(e as Error).name})`, what);
  }
}

export function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string").map((v) => v.trim()).filter(Boolean);
  if (value && typeof value === "object") return stringList(Object.values(value));
  return [];
}
