// Resolves a config's `ignition.config.replace` / `merge` references: fetch
// (with verification), parse, resolve the child's own references, then merge.
// Depth is limited and a reference back to a config on the current chain is a cycle.

import { describePlace, mergeSourcedConfigs, type SourcedConfig } from "../../config/index";
import type { Config, ConfigReference } from "../../config/types";
import { FlintError } from "../../errors";
import { log } from "../../log";
import { DEFAULT_CONFIG_CAP, describeSource, fetchToBuffer, NeedsNetworkError, settingsFromConfig, type FetchSettings } from "../../resource/index";
import { parseDocument } from "./document";
import type { SourceRecord } from "./record";

export const MAX_REFERENCE_DEPTH = 10;

export interface ResolveOptions {
  /** Refuse network fetches (fetch-offline): they raise NeedsNetworkError. */
  offline?: boolean;
  /** Appended with each referenced config fetched. */
  record?: SourceRecord[];
  /** Sources of the configs that led here, outermost first (for cycle detection). */
  chain?: string[];
}

/**
 * Returns `config` with all its references applied and `ignition.config`
 * removed. Each level fetches its children with its own `ignition` settings
 * (timeouts, proxy, CAs) layered over the inherited ones, as Ignition does.
 * The result's source tree says which document each part came from.
 */
export async function resolveConfigReferences(config: SourcedConfig, settings: FetchSettings = {}, options: ResolveOptions = {}): Promise<SourcedConfig> {
  return resolve(config, settings, options.chain ?? [], options);
}

async function resolve(sourced: SourcedConfig, inherited: FetchSettings, chain: string[], options: ResolveOptions): Promise<SourcedConfig> {
  const config = sourced.config;
  const references = config.ignition?.config;
  const own = { config: stripReferences(config), sources: sourced.sources };
  if (!references || (!references.replace?.source && !references.merge?.length)) return own;
  if (chain.length >= MAX_REFERENCE_DEPTH) {
    throw new FlintError(`config references nest deeper than ${MAX_REFERENCE_DEPTH} levels`, describeSource(chain[chain.length - 1] ?? "config"));
  }
  const settings = await settingsFromConfig(config, inherited, { offline: options.offline });

  if (references.replace?.source) {
    log.info("replacing the config with a referenced one", { source: describeSource(references.replace.source) });
    return fetchChild(references.replace, { role: "replace", parent: sourced, path: "ignition.config.replace" }, settings, chain, options);
  }
  let result = own;
  for (const [index, reference] of (references.merge ?? []).entries()) {
    log.info("merging a referenced config", { index, source: describeSource(reference.source) });
    const child = await fetchChild(reference, { role: "merge", parent: sourced, path: `ignition.config.merge.${index}` }, settings, chain, options);
    result = mergeSourcedConfigs(result, child);
  }
  return result;
}

/** A reference and where it is written: the config that holds it and its path there. */
interface ReferenceSite {
  role: "merge" | "replace";
  parent: SourcedConfig;
  path: string;
}

async function fetchChild(reference: ConfigReference, site: ReferenceSite, settings: FetchSettings, chain: string[], options: ResolveOptions): Promise<SourcedConfig> {
  const { role } = site;
  const label = describeSource(reference.source);
  if (chain.includes(reference.source)) {
    throw new FlintError(`config reference cycle: ${[...chain, reference.source].map(describeSource).join(" → ")}`, label);
  }
  const data = await fetchToBuffer(reference, { ...settings, offline: options.offline, maxBytes: DEFAULT_CONFIG_CAP, label }).catch((e: unknown) => {
    // fetch-offline hands a NeedsNetworkError on to fetch as it is.
    if (!(e instanceof FlintError) || e instanceof NeedsNetworkError) throw e;
    throw new FlintError(`${e.where ? `${e.where}: ` : ""}${e.message}`, describePlace(site.parent.config, site.path, site.parent.sources), { cause: e });
  });
  options.record?.push({ role, source: label, bytes: data.length });
  const child = parseDocument(data, label, `${role === "merge" ? "merged" : "replacing"} config ${label}`);
  return resolve(child, settings, [...chain, reference.source], options);
}

function stripReferences(config: Config): Config {
  if (!config.ignition?.config) return config;
  const { config: _references, ...ignition } = config.ignition;
  return { ...config, ignition };
}
