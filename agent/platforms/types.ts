// The one interface every platform implements (after Ignition's providers and
// afterburn's trait): where its config, SSH keys and hostname come from.
// Retries, parsing and logging live in shared code, never in a platform.

import type { FetchSettings } from "../resource/index";

export interface MetadataRequest {
  method?: "GET" | "PUT";
  headers?: Record<string, string>;
}

/** What a platform may use; everything that touches the outside goes through here. */
export interface PlatformContext {
  /**
   * GETs (or PUTs) a metadata URL with the shared retries; resolves `undefined`
   * when the service answers 404 ("nothing here"), throws on other failures.
   */
  fetchUrl(url: string, request?: MetadataRequest): Promise<Buffer | undefined>;
  /** The endpoint base for this platform: `FLINT_<ID>_ENDPOINT` (tests only) or the real one. */
  endpoint(defaultBase: string): string;
  /** Reads a local file; `undefined` if it does not exist. */
  readLocal(path: string): Promise<Buffer | undefined>;
  paths: PlatformPaths;
  settings: FetchSettings;
}

/** Local places a platform may look; each overridable by an environment variable (docs/platforms.md). */
export interface PlatformPaths {
  /** `FLINT_SYSFS_ROOT`, default `/sys`. */
  sysfs: string;
  /** `FLINT_LIB_DIR`, default `/usr/lib/flint`: base.d/*.ign and user.ign. */
  lib: string;
  /** `FLINT_OEM_DIR`, default `/usr/share/oem`: the OEM files when no OEM partition is found. */
  oem: string;
  /** The OEM partition (`/dev/disk/by-label/OEM`), mounted read-only while configs are assembled; unset with `FLINT_OEM_DIR`. */
  oemDevice?: string;
  /** `FLINT_CONFIG_DRIVE_DIR`, default `/media/configdrive`: OpenStack's config drive when no `config-2` device is found. */
  configDrive: string;
  /** `/dev/disk/by-label/config-2`; unset with `FLINT_CONFIG_DRIVE_DIR`. */
  configDriveDevice?: string;
  /** `FLINT_AZURE_OVF_DIR`, default `/media/azure-ovf`: Azure's provisioning CD-ROM when `/dev/sr0` is absent. */
  azureOvf: string;
  /** `/dev/sr0`; unset with `FLINT_AZURE_OVF_DIR`. */
  azureOvfDevice?: string;
}

export interface Platform {
  /** The canonical id, as in `flatcar.oem.id`. */
  id: string;
  /** True when its config can only come over the network (fetch-offline then defers to fetch). */
  needsNetwork: boolean;
  /** The user config's bytes, or `undefined` when the platform has none for this machine. */
  fetchConfig(ctx: PlatformContext): Promise<Buffer | undefined>;
  /** Public SSH keys from the metadata service (one OpenSSH key a line). */
  sshKeys?(ctx: PlatformContext): Promise<string[]>;
  /** The machine's hostname from the metadata service, if it has one. */
  hostname?(ctx: PlatformContext): Promise<string | undefined>;
}
