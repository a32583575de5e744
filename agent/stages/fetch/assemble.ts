// Config assembly: base configs from the image, the platform's hostname, the
// platform's (or the command line's) user config — each validated and its
// references resolved — merged in that order, later over earlier.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { documentTree, mergeConfigs, mergeSourcedConfigs, type SourcedConfig } from "../../config/index";
import { NEWEST_SPEC, type Config } from "../../config/types";
import { FlintError } from "../../errors";
import { log } from "../../log";
import { createPlatformContext } from "../../platforms/context";
import { loadPlatform } from "../../platforms/index";
import type { Platform, PlatformPaths } from "../../platforms/types";
import { DEFAULT_CONFIG_CAP, describeSource, fetchToBuffer, NeedsNetworkError, settingsFromConfig, type FetchSettings } from "../../resource/index";
import { readOemFile } from "../../resource/oem";
import type { SourceRecord, SourceRole } from "./record";
import { parseDocument } from "./document";
import { resolveConfigReferences } from "./references";
import { isBlank, notIgnitionKind } from "./user-data";

export interface AssembleOptions {
  platformId: string;
  /** `ignition.config.url` from the kernel command line: wins over the platform's config. */
  configUrl?: string;
  /** fetch-offline: stop with NeedsNetworkError at the first thing that needs the network. */
  offline: boolean;
  paths: PlatformPaths;
  env?: NodeJS.ProcessEnv;
}

export interface Assembled {
  config: Config;
  /** Which document each part of `config` came from, for errors at stage time. */
  origins: SourcedConfig["sources"];
  sources: SourceRecord[];
  /** Public SSH keys from the platform's metadata for SSH_KEYS_USER (empty when it has none). */
  platformKeys: string[];
}

/** Assembles with the OEM partition mounted read-only (when there is one) for the duration. */
export async function assembleConfig(options: AssembleOptions): Promise<Assembled> {
  const { withMedia } = await import("../../platforms/media");
  return withMedia({ device: options.paths.oemDevice, fallback: options.paths.oem }, (oem) => assemble({ ...options, paths: { ...options.paths, oem } }));
}

async function assemble(options: AssembleOptions): Promise<Assembled> {
  const sources: SourceRecord[] = [];
  const platform = await loadPlatform(options.platformId);
  const layers: SourcedConfig[] = [];

  // Base configs first: their ignition settings (timeouts, proxy, CAs) are
  // also what the user config is fetched with.
  for (const { label, data } of await baseConfigs(options.paths)) {
    sources.push({ role: "base", source: label, bytes: data.length });
    layers.push(await parsed(data, label, "base", {}, options, sources));
  }
  const base = layers.map((l) => l.config).reduce(mergeConfigs, emptyConfig());
  // oem:// URLs read the OEM tree held mounted here.
  const settings = await settingsFromConfig(base, { platform: platform.id, oemDir: options.paths.oem }, { offline: options.offline });
  const context = createPlatformContext({ settings, offline: options.offline, paths: options.paths, env: options.env });

  let user: SourcedConfig | undefined;
  const found = await findUserConfig(options, platform, context, settings);
  if (found === undefined || isBlank(found.data)) {
    log.info("no user config for this machine", { platform: platform.id });
  } else {
    const kind = await notIgnitionKind(found.data);
    if (kind) {
      // As Flatcar's Ignition: not an error, and the base configs still apply.
      log.info(`the user config from ${found.label} is ${kind === "script" ? "a script" : kind} user data, not an Ignition config: left to the OS (coreos-cloudinit)`);
      sources.push({ role: "not-ignition", source: found.label, bytes: found.data.length, kind });
    } else {
      sources.push({ role: found.role, source: found.label, bytes: found.data.length });
      user = await parsed(found.data, found.label, found.role, settings, options, sources);
    }
  }

  // The hostname comes from the metadata service: fetch gets it.
  if (platform.hostname && platform.needsNetwork && options.offline) throw new NeedsNetworkError(`the ${platform.id} platform's hostname`);
  const hostname = options.offline ? undefined : await platformHostname(platform, context);
  if (hostname) sources.push({ role: "hostname", source: `${platform.id} platform` });
  const platformKeys = options.offline ? [] : await platformSshKeys(platform, context);
  if (platformKeys.length) sources.push({ role: "ssh-keys", source: `${platform.id} platform` });

  // The platform's defaults go under everything, so any config that says otherwise wins.
  let config: SourcedConfig = { config: platformDefaults(hostname, platformKeys), sources: documentTree({ name: `the ${platform.id} platform's defaults` }) };
  for (const layer of user ? [...layers, user] : layers) config = mergeSourcedConfigs(config, layer);
  return { config: config.config, origins: config.sources, sources, platformKeys };
}

/** The place of `config.ign` in the OEM tree, where `flatcar-install -i` writes the user's config. */
const OEM_CONFIG = "/config.ign";
/** The OEM's own base config, applied under every user config. */
const OEM_BASE_CONFIG = "/base/base.ign";

interface FoundUserConfig {
  data: Buffer;
  label: string;
  role: "user" | "platform";
}

/**
 * The user config's bytes, chosen as on Flatcar: the kernel command line's
 * `ignition.config.url`; else `config.ign` in the OEM tree (bootengine
 * copies it over the initramfs's user.ign, on every platform); else
 * `<lib>/user.ign`; else the platform's own. Undefined when there is none.
 */
async function findUserConfig(options: AssembleOptions, platform: Platform, context: ReturnType<typeof createPlatformContext>, settings: FetchSettings): Promise<FoundUserConfig | undefined> {
  if (options.configUrl) {
    const label = describeSource(options.configUrl);
    log.info("fetching the user config named on the kernel command line", { source: label });
    return { data: await fetchToBuffer({ source: options.configUrl }, { ...settings, offline: options.offline, maxBytes: DEFAULT_CONFIG_CAP, label }), label, role: "user" };
  }
  const oemData = readOemFile(options.paths.oem, OEM_CONFIG, DEFAULT_CONFIG_CAP);
  if (oemData !== undefined) {
    log.info("using config.ign from the OEM partition", { platform: platform.id });
    return { data: oemData, label: `oem://${OEM_CONFIG}`, role: "user" };
  }
  const systemUser = join(options.paths.lib, "user.ign");
  const systemUserData = await context.readLocal(systemUser);
  if (systemUserData !== undefined) {
    log.info("using the system's user config", { path: systemUser });
    return { data: systemUserData, label: systemUser, role: "user" };
  }
  if (platform.needsNetwork && options.offline) throw new NeedsNetworkError(`the ${platform.id} platform's config`);
  const data = await platform.fetchConfig(context);
  if (data === undefined) return undefined;
  if (data.length > DEFAULT_CONFIG_CAP) throw new FlintError(`config larger than ${DEFAULT_CONFIG_CAP} bytes`, `${platform.id} platform`);
  return { data, label: `${platform.id} platform`, role: "platform" };
}

/** `<lib>/base.d/*.ign` in name order, then `base/base.ign` in the OEM tree. */
async function baseConfigs(paths: PlatformPaths): Promise<{ label: string; data: Buffer }[]> {
  const found: { label: string; data: Buffer }[] = [];
  const dir = join(paths.lib, "base.d");
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".ign")).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  for (const name of names) found.push({ label: join(dir, name), data: await readFile(join(dir, name)) });
  const oemBase = readOemFile(paths.oem, OEM_BASE_CONFIG, DEFAULT_CONFIG_CAP);
  if (oemBase !== undefined) found.push({ label: `oem://${OEM_BASE_CONFIG}`, data: oemBase });
  return found;
}

async function parsed(data: Buffer, label: string, role: SourceRole, settings: FetchSettings, options: AssembleOptions, record: SourceRecord[]): Promise<SourcedConfig> {
  const document = parseDocument(data, label, role === "base" ? `base config ${label}` : `user config ${role === "platform" ? `from the ${label}` : label}`);
  log.debug("parsed a config", { role, source: label });
  return resolveConfigReferences(document, settings, { offline: options.offline, record, chain: [label] });
}

async function platformHostname(platform: Platform, context: ReturnType<typeof createPlatformContext>): Promise<string | undefined> {
  if (!platform.hostname) return undefined;
  try {
    const name = (await platform.hostname(context))?.trim();
    if (name) log.info("hostname from the platform's metadata", { hostname: name });
    return name || undefined;
  } catch (e) {
    log.warn(`cannot get the hostname from the ${platform.id} metadata service: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The platform's SSH keys, written on this first boot (the refresh unit in the
 * root, where there is one, keeps them current on later boots). A metadata
 * service without keys, or one that fails, does not stop the boot.
 */
async function platformSshKeys(platform: Platform, context: ReturnType<typeof createPlatformContext>): Promise<string[]> {
  if (!platform.sshKeys) return [];
  try {
    const keys = await platform.sshKeys(context);
    if (keys.length) log.info(`${keys.length} SSH key(s) for ${SSH_KEYS_USER} from the platform's metadata`);
    return keys;
  } catch (e) {
    log.warn(`cannot get SSH keys from the ${platform.id} metadata service: ${(e as Error).message}`);
    return [];
  }
}

function emptyConfig(): Config {
  return { ignition: { version: NEWEST_SPEC } };
}

/** The user whose SSH keys come from the platform's metadata, as on Flatcar. */
export const SSH_KEYS_USER = "core";

/**
 * What the platform adds on its own: `/etc/hostname` from the metadata, and
 * the user its SSH keys are for (created if the root lacks it, as Flatcar
 * images have it). The keys themselves go to their own fragment (files
 * stage), not into the config. Merged first, so that configs override both.
 */
export function platformDefaults(hostname: string | undefined, platformKeys: string[]): Config {
  const config: Config = emptyConfig();
  if (hostname) {
    config.storage = { files: [{ path: "/etc/hostname", mode: 0o644, overwrite: true, contents: { source: `data:,${encodeURIComponent(hostname + "\n")}` } }] };
  }
  if (platformKeys.length) config.passwd = { users: [{ name: SSH_KEYS_USER }] };
  return config;
}
