// The spec versions Flint reads, and what each one allows.

export interface SpecVersion {
  major: 2 | 3;
  minor: number;
  experimental: boolean;
  /** As written in the document. */
  text: string;
}

export const SUPPORTED_V2 = ["2.0.0", "2.1.0", "2.2.0", "2.3.0"];
export const SUPPORTED_V3 = ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0"];
export const EXPERIMENTAL = "3.7.0-experimental";

/** Parses `ignition.version`; returns a message when it is not one Flint accepts. */
export function parseSpecVersion(text: string, allowExperimental: boolean): SpecVersion | string {
  if (text === EXPERIMENTAL) {
    if (!allowExperimental) return `spec version ${text} is experimental; accept it explicitly (flint validate --experimental)`;
    return { major: 3, minor: 7, experimental: true, text };
  }
  const known = SUPPORTED_V3.includes(text) || SUPPORTED_V2.includes(text);
  if (!known) {
    const m = /^(\d+)\.(\d+)\.(\d+)(-.*)?$/.exec(text);
    if (!m) return `invalid spec version ${JSON.stringify(text)}: expected a version such as "3.6.0"`;
    return `unsupported spec version ${text}; Flint reads ${SUPPORTED_V2.join(", ")}, ${SUPPORTED_V3.join(", ")} (and ${EXPERIMENTAL} with --experimental)`;
  }
  const [major, minor] = text.split(".").map(Number) as [2 | 3, number];
  return { major, minor, experimental: false, text };
}

/**
 * URL schemes a 3.x resource may use (one list per minor version, made once:
 * every resource asks). `oem` in every version, as Flatcar's Ignition allows it.
 */
export function allowedSchemes(minor: number): readonly string[] {
  return (schemesByMinor[minor] ??= Object.freeze(["http", "https", "tftp", "s3", "data", "oem", ...(minor >= 2 ? ["gs"] : []), ...(minor >= 4 ? ["arn"] : [])]));
}
const schemesByMinor: (readonly string[])[] = [];

const HASHES_3_0: readonly string[] = Object.freeze(["sha512"]);
const HASHES_3_1: readonly string[] = Object.freeze(["sha512", "sha256"]);

export function allowedHashes(minor: number): readonly string[] {
  return minor >= 1 ? HASHES_3_1 : HASHES_3_0;
}

export function allowedFormats(minor: number): string[] {
  const formats = ["ext4", "btrfs", "xfs", "vfat", "swap"];
  if (minor >= 3) formats.push("none");
  if (minor >= 7) formats.push("virtiofs"); // 3.7.0-experimental
  return formats;
}
