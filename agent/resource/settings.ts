// Fetch settings from a config's `ignition` section, layered over inherited
// ones: timeouts and proxy replace, CAs add up. CA sources are resources too.

import type { Config } from "../config/types";
import { DEFAULT_CONFIG_CAP, fetchToBuffer, type FetchSettings } from "./index";
import { describeSource } from "./source";

export async function settingsFromConfig(config: Config, inherited: FetchSettings = {}, options: { offline?: boolean } = {}): Promise<FetchSettings> {
  const ignition = config.ignition ?? {};
  const settings: FetchSettings = {
    timeouts: { ...inherited.timeouts, ...definedOnly(ignition.timeouts ?? {}) },
    proxy: ignition.proxy ?? inherited.proxy,
    certificateAuthorities: [...(inherited.certificateAuthorities ?? [])],
  };
  for (const ca of ignition.security?.tls?.certificateAuthorities ?? []) {
    settings.certificateAuthorities!.push(await fetchToBuffer(ca, { ...inherited, offline: options.offline, maxBytes: DEFAULT_CONFIG_CAP, label: `certificate authority ${describeSource(ca.source)}` }));
  }
  return settings;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
