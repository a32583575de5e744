// Google Compute Engine's metadata server, as Google documents it: every
// request must carry `Metadata-Flavor: Google` (else 403), requests with
// `X-Forwarded-For` are refused (403), every answer carries
// `Metadata-Flavor: Google`, and an attribute that is not set is a 404.
// Reached at 169.254.169.254 and as metadata.google.internal.
// Scenarios: `legacy-keys` = the keys in the deprecated `sshKeys` attribute;
// `long-hostname` = a fully qualified name over 64 characters;
// `block-project-keys` = `block-project-ssh-keys` true with a project key set.

import { gcsService, serviceAccountMetadata } from "./gcs";
import { DEFAULT_HOSTNAME, parse, send, type CloudOptions, type FakeCloud, type Handler } from "./service";

const FLAVOR = { "Metadata-Flavor": "Google" };
export const PROJECT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFlintLabProjectKeyFlintLabProjectKeyFlint project@flint-lab";

export function gcp(options: CloudOptions): FakeCloud {
  const short = options.hostname ?? DEFAULT_HOSTNAME;
  const hostname = options.scenario === "long-hostname" ? `${short}.c.a-project-name-long-enough-to-pass-the-limit.internal` : `${short}.c.flint-lab.internal`;
  const attrs: Record<string, string | Buffer | undefined> = {
    "instance/hostname": hostname,
    "instance/id": "4520031799277581759",
    "instance/name": short,
    "instance/zone": "projects/123456789/zones/us-central1-a",
    "instance/machine-type": "projects/123456789/machineTypes/e2-small",
    "instance/attributes/user-data": options.userdata,
    "project/project-id": "flint-lab",
  };
  if (options.sshKey) attrs[options.scenario === "legacy-keys" ? "instance/attributes/sshKeys" : "instance/attributes/ssh-keys"] = `core:${options.sshKey}\n`;
  if (options.scenario === "block-project-keys") {
    attrs["instance/attributes/block-project-ssh-keys"] = "true";
    attrs["project/attributes/ssh-keys"] = `core:${PROJECT_KEY}\n`;
  }

  const handler: Handler = (req, res) => {
    if (req.headers["metadata-flavor"] !== "Google" || req.headers["x-forwarded-for"]) {
      return send(res, 403, "Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.\n", FLAVOR);
    }
    const { path, query } = parse(req);
    const prefix = "/computeMetadata/v1/";
    if (!path.startsWith(prefix)) return send(res, 404, "Not Found\n", FLAVOR);
    // The service account and its tokens: fakes/gcs.ts.
    if (path.startsWith(`${prefix}instance/service-accounts/`)) {
      const entry = serviceAccountMetadata(path.slice(prefix.length), query, options.scenario);
      if (!entry) return send(res, 404, "Not Found\n", FLAVOR);
      return send(res, 200, entry.body, { ...FLAVOR, "Content-Type": entry.json ? "application/json" : "application/text" });
    }
    const value = attrs[path.slice(prefix.length)];
    if (value === undefined) return send(res, 404, "Not Found\n", FLAVOR);
    send(res, 200, value, { ...FLAVOR, "Content-Type": "application/text" });
  };
  const gcs = gcsService(options);
  return {
    addresses: ["169.254.169.254/32", ...gcs.addresses],
    listeners: [{ address: "169.254.169.254", port: 80, handler }, ...gcs.listeners],
  };
}
