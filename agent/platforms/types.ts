// The one interface every platform implements (after Ignition's providers and
// afterburn's trait): where its config, SSH keys and hostname come from.
// Retries, parsing and logging live in shared code, never in a platform.

import type { FetchSettings } from "../resource/index";

export interface MetadataRequest {
  method?: "GET" | "PUT" | "POST";
  /** A POST's body (check-ins). */
  body?: string;
  /** The local port for each try (Scaleway: below 1024). */
  localPort?: () => number;
  headers?: Record<string, string>;
  /** What a 404 means: nothing there (`undefined`, the default) or a failure (Equinix Metal, DigitalOcean). */
  notFound?: "absent" | "error";
  /** Statuses that mean "not ready yet, ask again" (Azure IMDS: 404, 410, 429). */
  retryStatuses?: number[];
  /** A limit in ms on this fetch with its retries (the config's httpTotal still applies when smaller). */
  totalMs?: number;
  /** Stops the fetch (another source won a race). */
  signal?: AbortSignal;
  /** Connect here instead of the URL's host: a link-local IPv6 address with its zone (`fe80::a9fe:a9fe%eth0`). */
  connectTo?: string;
}

/** What a platform may use; everything that touches the outside goes through here. */
export interface PlatformContext {
  /**
   * GETs (or PUTs) a metadata URL — always the real one — with the shared
   * retries; resolves `undefined` when the service answers 404 ("nothing
   * here", unless `notFound: "error"`), throws on other failures.
   */
  fetchUrl(url: string, request?: MetadataRequest): Promise<Buffer | undefined>;
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
  /** The OEM partition (`FLINT_OEM_DEVICE`, default `/dev/disk/by-label/OEM`, none with only `FLINT_OEM_DIR`), mounted read-only while configs are assembled and for each oem:// read. */
  oemDevice?: string;
  /** `FLINT_DISK_BY_LABEL_DIR`, default `/dev/disk/by-label`: where labelled drives (config-2, cidata, ROOT) are looked for. */
  byLabel: string;
  /** `FLINT_CONFIG_DRIVE_DIR` (tests): a directory read as OpenStack's config drive; no device is looked for. */
  configDriveDir?: string;
  /** `/dev`: where the CD-ROMs scanned for Azure's provisioning media are. */
  dev: string;
  /** `FLINT_AZURE_OVF_DIR` (tests): a directory read as Azure's provisioning media; no CD-ROM is scanned. */
  azureOvfDir?: string;
  /** `FLINT_KVP_POOL_DIR`, default `/var/lib/hyperv`: Hyper-V's KVP pool files (`.kvp_pool_N`). */
  kvpPoolDir: string;
  /** `FLINT_NETIF_LEASES_DIR`, default `/run/systemd/netif/leases`: systemd-networkd's DHCP leases (CloudStack). */
  networkdLeases: string;
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
  /** Tells the cloud how the first boot ended (Azure's health report, Equinix Metal's phone-home); see checkin.ts. */
  checkIn?(ctx: PlatformContext, outcome: CheckInOutcome): Promise<void>;
  /** Removes the config from where the hypervisor keeps it, after a successful first boot (VMware, VirtualBox). */
  deleteConfig?(ctx: PlatformContext): Promise<void>;
}

/** How the first boot ended: success, or the failure's one-line reason. */
export type CheckInOutcome = { ok: true } | { ok: false; reason: string };
