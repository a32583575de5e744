// One config document read the way every stage-time caller reads it: parsed
// and validated, its warnings logged with line and column (as validate
// prints them), and its source tree named for errors found later.

import { formatIssue, parseConfig, type SourcedConfig } from "../../config/index";
import { log } from "../../log";

/** `label` names the document in logs; `documentName` in errors at stage time (`merged config https://…`). */
export function parseDocument(data: Buffer, label: string, documentName: string, filesDir?: string, releaseInput = false): SourcedConfig & { specVersion: string } {
  const { config, warnings, sources, specVersion } = parseConfig(data, { source: label, documentName, releaseInput, ...(filesDir !== undefined ? { filesDir } : {}) });
  for (const warning of warnings) log.warn(`${label}: warning: ${formatIssue(warning)}`);
  return { config, sources, specVersion };
}
