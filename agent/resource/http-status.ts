// A final (non-retryable) HTTP status, in a module of its own: code that only
// checks for one (a 404 from a metadata service) does not load the HTTP stack.

import { FlintError } from "../errors";

export class HttpStatusError extends FlintError {
  constructor(
    readonly status: number,
    label: string,
    /** The status's reason phrase, e.g. "Not Found". */
    reason = "",
  ) {
    super(`HTTP status ${status} ${reason}`.trim(), label);
  }
}
