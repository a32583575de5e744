// What a cloud storage source (s3://, arn:, gs://, an Azure Blob URL read
// with the VM's identity) becomes before it is read: the HTTPS URL of the
// object, the headers of each try (a signature or token is made afresh per
// try: it carries its time), and how the service's error answers read.
// The bytes then go through the same retries, gunzip, size cap and hash as
// any HTTP source (index.ts).

import type { IncomingHttpHeaders } from "node:http";

export interface CloudTarget {
  /** The object's HTTPS URL. */
  url: string;
  /** The headers of one try. */
  headers(): Promise<Record<string, string>>;
  /**
   * A non-2xx answer (status, the start of its body, its headers) as the
   * error to raise: the service's own code and message, with what Flint
   * signed or authenticated with. A RetryableError when another try may do
   * better (5xx, throttling, credentials renewed).
   */
  failure(status: number, body: string, headers: IncomingHttpHeaders): Error;
}

/** How much of an error answer is read to explain it (S3's XML, Google's and Azure's errors are well under this). */
export const ERROR_BODY_CAP = 16 * 1024;

/** Credentials this close to their expiry are asked for again (the services renew theirs well before). */
export const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Credentials from a metadata service, asked for once and again only when
 * near their expiry or when `renew` (the storage service refused them).
 * `null` means the machine has none (no role, no service account, no
 * identity): the source is then read anonymously.
 */
export class Renewing<T> {
  private held?: Promise<{ value: T; expiresAt?: number } | null>;

  constructor(private readonly ask: () => Promise<{ value: T; expiresAt?: number } | null>) {}

  async get(renew = false): Promise<T | null> {
    if (this.held && !renew) {
      const current = await this.held;
      if (!current?.expiresAt || current.expiresAt - Date.now() > RENEW_BEFORE_MS) return current?.value ?? null;
    }
    const asking = this.ask();
    this.held = asking;
    asking.catch(() => {
      if (this.held === asking) this.held = undefined;
    });
    return (await asking)?.value ?? null;
  }
}

/** The named fields of an XML error answer (S3's, Azure Storage's `<Error><Code>…`), unescaped. */
export function xmlErrorFields(body: string, names: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const name of names) {
    const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body);
    if (match) fields[name] = match[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  }
  return fields;
}
