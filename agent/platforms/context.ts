// Builds the context a platform runs with: metadata fetches through the one
// resource layer (retries, timeouts, proxy, offline refusal), local reads, paths.

import { readFile } from "node:fs/promises";
import { DEFAULT_CONFIG_CAP, fetchToBuffer, fetchUrl, type FetchSettings } from "../resource/index";
import { platformPaths } from "./paths";
import type { PlatformContext, PlatformPaths } from "./types";

export interface PlatformContextOptions {
  settings?: FetchSettings;
  /** fetch-offline: any network fetch raises NeedsNetworkError instead. */
  offline?: boolean;
  env?: NodeJS.ProcessEnv;
  paths?: PlatformPaths;
}

export function createPlatformContext(options: PlatformContextOptions = {}): PlatformContext {
  const env = options.env ?? process.env;
  const settings = options.settings ?? {};
  return {
    settings,
    paths: options.paths ?? platformPaths(env),
    fetchUrl: async (url, request = {}) => {
      const { notFound, ...rest } = request;
      const fetchOptions = { ...settings, offline: options.offline, ...rest };
      return notFound === "error" ? fetchToBuffer({ source: url }, { maxBytes: DEFAULT_CONFIG_CAP, ...fetchOptions }) : fetchUrl(url, fetchOptions);
    },
    readLocal: async (path) => {
      try {
        return await readFile(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
  };
}
