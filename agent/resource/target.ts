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
