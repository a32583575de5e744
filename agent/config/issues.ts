// Issues as the readers and validators produce them, before positions are known.

export type JsonPath = (string | number)[];

export interface RawIssue {
  severity: "error" | "warning";
  path: JsonPath;
  message: string;
  /** Point at the key itself (unknown keys) rather than at its value. */
  atKey?: boolean;
}

/** Collects issues while a document is read and checked. */
export class IssueList {
  readonly items: RawIssue[] = [];

  error(path: JsonPath, message: string): void {
    this.items.push({ severity: "error", path, message });
  }

  warn(path: JsonPath, message: string, atKey = false): void {
    this.items.push({ severity: "warning", path, message, ...(atKey ? { atKey } : {}) });
  }

  get hasErrors(): boolean {
    return this.items.some((i) => i.severity === "error");
  }
}
