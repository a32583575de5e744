// The config's directories, files and links as integer ids (directories,
// then files, then links, each in config order), with what ordering and
// grouping them needs in typed arrays filled in one pass over the lists.
// A 100,000-file config then costs the stage a few bytes per entry, not an
// object and a slot in several lists each. The config's items are read
// twice: in that pass, and when the entry is applied (entry(id)); nothing
// here keeps an item, one of its strings, or relies on an item's identity
// (a big config's lists may make a fresh item at every read).

import type { ItemList } from "../../config/index";
import type { Directory, File, Link } from "../../config/types";
import { nodePathProblem } from "../../config/validate/nodes";
import { FlintError } from "../../errors";
import type { Entry } from "./nodes";

type Kind = Entry["kind"];

/** The storage lists as the config has them (each read of a big config's item makes it anew). */
export interface StorageLists {
  directories?: ItemList<Directory>;
  files?: ItemList<File>;
  links?: ItemList<Link>;
}

/** Bits of `flags`. */
const HARD = 1;
const OWNER_BY_NAME = 2;

/** The entry made for an id when it is applied: its JSON path is made only when a message needs it. */
class StoredEntry {
  constructor(
    readonly kind: Kind,
    readonly node: Directory | File | Link,
    private readonly index: number,
  ) {}

  get where(): string {
    return whereOf(this.kind, this.index);
  }
}

function whereOf(kind: Kind, index: number): string {
  return `storage.${kind === "directory" ? "directories" : `${kind}s`}.${index}`;
}

export class StorageEntries {
  /** Ids below this are directories; then files up to `linksFrom`; then links up to `count`. */
  private readonly filesFrom: number;
  private readonly linksFrom: number;
  readonly count: number;
  /** Path components of each entry (a clean path under PATH_MAX has at most 2,048). */
  readonly depth: Uint16Array;
  /** Its parent directory, as an id shared by the entries with that parent (0 up to `parentCount`). */
  readonly parent: Int32Array;
  readonly parentCount: number;
  private readonly flags: Uint8Array;
  /** Its top-level tree, as an index into `topNames`, until the split around the accounts (topsDone). */
  private tops?: Int32Array;
  private topNames?: string[];

  /**
   * The one pass over the lists: every path is checked (with the
   * validator's rule, so that a bad one stops the stage before anything is
   * written) and its facts are taken.
   */
  constructor(private readonly lists: StorageLists | undefined) {
    const dirs = lists?.directories?.length ?? 0;
    const files = lists?.files?.length ?? 0;
    const links = lists?.links?.length ?? 0;
    this.filesFrom = dirs;
    this.linksFrom = dirs + files;
    this.count = dirs + files + links;
    this.depth = new Uint16Array(this.count);
    this.parent = new Int32Array(this.count);
    this.flags = new Uint8Array(this.count);
    this.tops = new Int32Array(this.count);
    // Slices of the paths: the parents' go with this pass, the few top-level names stay until topsDone().
    const parents = new Map<string, number>();
    const tops = new Map<string, number>();
    let id = 0;
    const take = (kind: Kind, list: ItemList<Directory | File | Link> | undefined): void => {
      let i = 0;
      for (const node of list ?? []) {
        const path = node.path;
        const problem = nodePathProblem(path);
        if (problem) throw new FlintError(problem, `${whereOf(kind, i)}.path`);
        // A clean absolute path: one slash per component.
        let depth = 0;
        for (let c = path.indexOf("/"); c !== -1; c = path.indexOf("/", c + 1)) depth++;
        this.depth[id] = depth;
        const dir = path.slice(0, path.lastIndexOf("/"));
        let parent = parents.get(dir);
        if (parent === undefined) parents.set(dir, (parent = parents.size));
        this.parent[id] = parent;
        const second = path.indexOf("/", 1);
        const top = second === -1 ? path.slice(1) : path.slice(1, second);
        let topId = tops.get(top);
        if (topId === undefined) tops.set(top, (topId = tops.size));
        this.tops![id] = topId;
        let flags = 0;
        if (kind === "link" && (node as Link).hard === true) flags |= HARD;
        if (node.user?.name || node.group?.name) flags |= OWNER_BY_NAME;
        this.flags[id++] = flags;
        i++;
      }
    };
    take("directory", lists?.directories);
    take("file", lists?.files);
    take("link", lists?.links);
    this.parentCount = parents.size;
    this.topNames = [...tops.keys()];
  }

  kindOf(id: number): Kind {
    return id < this.filesFrom ? "directory" : id < this.linksFrom ? "file" : "link";
  }

  isHard(id: number): boolean {
    return (this.flags[id]! & HARD) !== 0;
  }

  hasOwnerByName(id: number): boolean {
    return (this.flags[id]! & OWNER_BY_NAME) !== 0;
  }

  /** The name of the entry's top-level tree ("etc" for /etc/hosts); only until topsDone(). */
  topOf(id: number): string {
    return this.topNames![this.tops![id]!]!;
  }

  /** The top-level trees are no longer asked for. */
  topsDone(): void {
    this.tops = undefined;
    this.topNames = undefined;
  }

  /** The entry to apply: its item read from the config again (not kept here). */
  entry(id: number): Entry {
    const kind = this.kindOf(id);
    const index = kind === "directory" ? id : kind === "file" ? id - this.filesFrom : id - this.linksFrom;
    const list = kind === "directory" ? this.lists!.directories! : kind === "file" ? this.lists!.files! : this.lists!.links!;
    return new StoredEntry(kind, list.at(index)!, index) as unknown as Entry;
  }
}
