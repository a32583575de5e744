// The Butane variants and versions Flint reads, and the Ignition spec each one
// becomes (as Butane v0.29 translates them; v0.19's fcos 1.6.0-experimental
// is still read, as v0.19 read it).

export interface ButaneVersion {
  variant: "fcos" | "flatcar";
  version: string;
  /** Minor of the Ignition 3.x spec produced; which Ignition fields exist follows it. */
  ignitionMinor: number;
  /** `ignition.version` of the output. */
  ignitionVersion: string;
  experimental: boolean;
  /** fcos 1.3+: boot_device (luks, mirror). */
  bootDevice: boolean;
  /** fcos 1.5+: grub.users. */
  grubUsers: boolean;
  /** Flatcar has no clevis. */
  clevis: boolean;
  /**
   * fcos 1.6.0 and later as Butane v0.20+ has them: a partition reused by
   * label is warned about, a with_mount_unit path must be under /etc or /var
   * (not in v0.19's 1.6.0-experimental, read as v0.19 read it).
   */
  diskChecks: boolean;
}

const fcos = (version: string, ignitionMinor: number, bootDevice: boolean, grubUsers: boolean, experimental = false): ButaneVersion => ({
  variant: "fcos",
  version,
  ignitionMinor,
  ignitionVersion: experimental ? `3.${ignitionMinor}.0-experimental` : `3.${ignitionMinor}.0`,
  experimental,
  bootDevice,
  grubUsers,
  clevis: true,
  diskChecks: ignitionMinor >= 5 && version !== "1.6.0-experimental",
});

const flatcar = (version: string, ignitionMinor: number, experimental = false): ButaneVersion => ({
  variant: "flatcar",
  version,
  ignitionMinor,
  ignitionVersion: experimental ? `3.${ignitionMinor}.0-experimental` : `3.${ignitionMinor}.0`,
  experimental,
  bootDevice: false,
  grubUsers: false,
  clevis: false,
  diskChecks: false,
});

const BUTANE_VERSIONS: ButaneVersion[] = [
  fcos("1.0.0", 0, false, false),
  fcos("1.1.0", 1, false, false),
  fcos("1.2.0", 2, false, false),
  fcos("1.3.0", 2, true, false),
  fcos("1.4.0", 3, true, false),
  fcos("1.5.0", 4, true, true),
  fcos("1.6.0-experimental", 5, true, true, true),
  fcos("1.6.0", 5, true, true),
  fcos("1.7.0", 6, true, true),
  fcos("1.8.0-experimental", 7, true, true, true),
  flatcar("1.0.0", 3),
  flatcar("1.1.0", 4),
  flatcar("1.2.0-experimental", 7, true),
];

/** The version entry, or a message saying why there is none. */
export function findButaneVersion(variant: string, version: string, allowExperimental: boolean): ButaneVersion | string {
  const found = BUTANE_VERSIONS.find((v) => v.variant === variant && v.version === version);
  const known = (name: string) =>
    BUTANE_VERSIONS.filter((v) => v.variant === name)
      .map((v) => v.version)
      .join(", ");
  if (!found) {
    if (variant !== "fcos" && variant !== "flatcar") return `unsupported Butane variant ${JSON.stringify(variant)}; Flint reads "fcos" and "flatcar"`;
    return `unsupported Butane version ${JSON.stringify(version)} for variant ${variant}; Flint reads ${known(variant)}`;
  }
  if (found.experimental && !allowExperimental) return `Butane version ${version} is experimental; accept it explicitly (--experimental)`;
  return found;
}
