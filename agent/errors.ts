// Error values that carry what failed and where, and the exit status they map to.

/** Exit statuses of the CLI contract. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure of the work itself (bad config, failed fetch, failed tool): exit 1. */
export class FlintError extends Error {
  override name = "FlintError";
  constructor(
    message: string,
    /** Where it happened: a JSON path, a device, a URL (never a secret). */
    readonly where?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The command line was wrong or an input could not be read: exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Formats any thrown value as one line a person can act on (no stack traces). */
export function describeError(err: unknown): string {
  if (err instanceof FlintError && err.where) return `${err.where}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
