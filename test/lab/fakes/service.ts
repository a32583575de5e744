// What every fake cloud is made of: the addresses it owns, the listeners it
// binds there, and small helpers for answering like a metadata service.
// Each cloud's module follows that cloud's documented API, not Flint's code.

import type { IncomingMessage, ServerResponse } from "node:http";

export interface CloudOptions {
  /** The user data (an Ignition config, or anything the test wants served). */
  userdata?: Buffer;
  /** One OpenSSH public key line. */
  sshKey?: string;
  hostname?: string;
  /** A cloud-specific variation, e.g. azure `imds-404-twice`. */
  scenario?: string;
  /** Objects in the cloud's storage service, by URL (`s3://BUCKET/KEY`…; see fakes/s3.ts). */
  objects?: Record<string, Buffer>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Listener {
  address: string;
  port: number;
  /** Serve HTTPS with a certificate for `names` (signed by the lab's throw-away CA). */
  tls?: { names: string[] };
  handler: Handler;
}

export interface FakeCloud {
  /** Addresses to put on the namespace's device, with their prefix, e.g. `169.254.169.254/32`. */
  addresses: string[];
  listeners: Listener[];
}

/** Sends `body` (text) with `status`, the way these services do: plain text, no caching. */
export function send(res: ServerResponse, status: number, body: string | Buffer = "", headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain", ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(value));
}

export function notFound(res: ServerResponse, headers: Record<string, string> = {}): void {
  send(res, 404, "Not Found\n", headers);
}

/** The path and the query of a request, split. */
export function parse(req: IncomingMessage): { path: string; query: URLSearchParams } {
  const url = new URL(req.url ?? "/", "http://metadata");
  return { path: decodeURIComponent(url.pathname), query: url.searchParams };
}

/** A serve-a-tree handler: a function per path, anything else 404. */
export function tree(entries: Record<string, string | Buffer | undefined>, res: ServerResponse, path: string, headers: Record<string, string> = {}): void {
  const value = entries[path];
  if (value === undefined) return notFound(res, headers);
  send(res, 200, value, headers);
}

export const DEFAULT_HOSTNAME = "flint-lab";
