// Flint makes the [Install] links itself; these tests hold it to what the
// real `systemctl --root` (systemd 252 here) makes on an identical root.

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseInstallSection } from "../../../agent/systemd/install";
import { makeTempRoot, snapshotTree, useTempRoot } from "../../helpers/root";
import { applyConfig, logLines, useCapturedLog, V } from "./run";

type Step = { enabled: boolean; names: string[] };
interface Scenario {
  title: string;
  /** Files in the image: path → contents (a string starting with "->" is a symlink). */
  image?: Record<string, string>;
  /** Units the config writes (name → contents). */
  written?: Record<string, string>;
  steps: Step[];
}

const SVC = "[Service]\nExecStart=/bin/true\n";

const SCENARIOS: Scenario[] = [
  {
    title: "WantedBy, RequiredBy and Alias of a unit the config writes",
    written: { "web.service": `${SVC}[Install]\nWantedBy=multi-user.target graphical.target\nRequiredBy=network-online.target\nAlias=www.service\n` },
    steps: [{ enabled: true, names: ["web.service"] }],
  },
  {
    title: "an image unit in /usr/lib with Also= another image unit that has an alias",
    image: {
      "/usr/lib/systemd/system/a.service": `${SVC}[Install]\nWantedBy=multi-user.target\nAlso=b.socket missing.service\n`,
      "/usr/lib/systemd/system/b.socket": "[Socket]\nListenStream=1\n[Install]\nWantedBy=sockets.target\nAlias=bee.socket\n",
    },
    steps: [{ enabled: true, names: ["a.service"] }],
  },
  {
    title: "a template with DefaultInstance, a template alias and a template target, enabled bare and as instances",
    written: { "hi@.service": `${SVC}[Install]\nWantedBy=multi-user.target\nRequiredBy=foo@%i.target\nDefaultInstance=one\nAlias=greet@.service\n` },
    steps: [{ enabled: true, names: ["hi@.service", "hi@two.service", "hi@three.service"] }],
  },
  {
    title: "a template without DefaultInstance: only template targets get a link",
    image: { "/usr/lib/systemd/system/t@.service": `${SVC}[Install]\nWantedBy=multi-user.target getty@.target\nAlias=al@.service\n` },
    steps: [{ enabled: true, names: ["t@.service", "t@x.service"] }],
  },
  {
    title: "specifiers, continuation lines, comments and an empty value resetting the list",
    written: { "my-app@blue.service": `${SVC}[Install]\n# a comment\nWantedBy=gone.target\nWantedBy=\nWantedBy=%N.target \\\n  %p-extra.target\n; another\nRequiredBy=%j.target %i-x.target\n` },
    steps: [{ enabled: true, names: ["my-app@blue.service"] }],
  },
  {
    title: "a stale link at a wants path is replaced; an instance file of its own beats the template",
    image: {
      "/etc/systemd/system/multi-user.target.wants/c.service": "->/somewhere/else.service",
      "/usr/lib/systemd/system/c.service": `${SVC}[Install]\nWantedBy=multi-user.target\n`,
      "/usr/lib/systemd/system/getty@.service": `${SVC}[Install]\nWantedBy=getty.target\n`,
      "/etc/systemd/system/getty@tty1.service": `${SVC}[Install]\nWantedBy=multi-user.target\n`,
    },
    steps: [{ enabled: true, names: ["c.service", "getty@tty1.service", "getty@tty2.service"] }],
  },
  {
    title: "a unit linked into /etc from outside the search path",
    image: { "/opt/app/l.service": `${SVC}[Install]\nWantedBy=multi-user.target\n`, "/etc/systemd/system/l.service": "->/opt/app/l.service" },
    steps: [{ enabled: true, names: ["l.service"] }],
  },
  {
    title: "disable after enable: an instance, then the template with its aliases, and Also= units",
    written: { "hi@.service": `${SVC}[Install]\nWantedBy=multi-user.target\nRequiredBy=foo@%i.target\nDefaultInstance=one\nAlias=greet@.service\nAlso=b.service\n` },
    image: { "/usr/lib/systemd/system/b.service": `${SVC}[Install]\nWantedBy=%N-x.target\nAlias=bee.service\n` },
    steps: [
      { enabled: true, names: ["hi@.service", "hi@two.service"] },
      { enabled: false, names: ["hi@two.service"] },
      { enabled: false, names: ["hi@.service"] },
    ],
  },
  {
    title: "disable of a unit the root lacks removes the links named after it",
    image: { "/etc/systemd/system/multi-user.target.wants/gone.service": "->/etc/systemd/system/gone.service" },
    steps: [{ enabled: false, names: ["gone.service"] }],
  },
  {
    title: "a unit without [Install] gets no links",
    image: { "/usr/lib/systemd/system/static.service": SVC },
    steps: [{ enabled: true, names: ["static.service"] }],
  },
];

function populate(root: string, s: Scenario): void {
  for (const [path, text] of Object.entries(s.image ?? {})) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    if (text.startsWith("->")) symlinkSync(text.slice(2), join(root, path));
    else writeFileSync(join(root, path), text, { mode: 0o644 });
  }
}

function unitExists(name: string, s: Scenario): boolean {
  const template = name.replace(/@[^.]+\./, "@.");
  const names = [name, template];
  return names.some((n) => n in (s.written ?? {}) || Object.keys(s.image ?? {}).some((p) => p.endsWith(`/${n}`) && p.includes("/systemd/system/")));
}

describe("files stage: [Install] links made without systemctl, as systemctl makes them", () => {
  useCapturedLog();
  const t = useTempRoot();

  for (const s of SCENARIOS) {
    it(s.title, async () => {
      populate(t.root, s);
      for (const [i, step] of s.steps.entries()) {
        const units = step.names.map((name) => ({ name, enabled: step.enabled, ...(i === 0 && s.written?.[name] ? { contents: s.written[name] } : {}) }));
        // Units written but not toggled in this step are still in the first config.
        const extra = i === 0 ? Object.entries(s.written ?? {}).filter(([n]) => !step.names.includes(n)).map(([name, contents]) => ({ name, contents })) : [];
        await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [...extra, ...units] } });
      }
      const ref = makeTempRoot("flint-systemctl-ref-");
      try {
        populate(ref.root, s);
        for (const [name, text] of Object.entries(s.written ?? {})) {
          mkdirSync(join(ref.root, "etc/systemd/system"), { recursive: true });
          writeFileSync(join(ref.root, "etc/systemd/system", name), text, { mode: 0o644 });
        }
        for (const step of s.steps) {
          // systemctl refuses the whole call over one unknown unit; Flint goes on without it.
          const present = step.names.filter((n) => step.enabled === false || unitExists(n, s));
          execFileSync("systemctl", ["--root", ref.root, "--no-reload", step.enabled ? "enable" : "disable", ...present], { stdio: "ignore" });
        }
        const dir = (root: string) => (existsSync(join(root, "etc/systemd")) ? snapshotTree(join(root, "etc/systemd"), { ignore: (p) => p.startsWith("system-preset") }) : []);
        assert.deepEqual(dir(t.root), dir(ref.root));
      } finally {
        ref.cleanup();
      }
    });
  }
});

describe("files stage: units the root does not have", () => {
  useCapturedLog();
  const t = useTempRoot();
  beforeEach(() => {
    logLines.length = 0;
  });

  it("enabling, disabling, drop-ins and masks of absent units succeed, with preset lines and an info line", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      systemd: {
        units: [
          { name: "docker.service", enabled: true, dropins: [{ name: "10-opts.conf", contents: "[Service]\nEnvironment=X=1\n" }] },
          { name: "containerd.service", enabled: true },
          { name: "sshd.socket", enabled: false },
          { name: "systemd-oomd.service", mask: true },
          { name: "wg-quick@wg0.service", enabled: true },
        ],
      },
    });
    const preset = readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8");
    assert.match(preset, /^enable docker\.service$/m);
    assert.match(preset, /^enable containerd\.service$/m);
    assert.match(preset, /^disable sshd\.socket$/m);
    assert.match(preset, /^enable wg-quick@\.service wg0$/m);
    assert.equal(readFileSync(join(t.root, "etc/systemd/system/docker.service.d/10-opts.conf"), "utf8"), "[Service]\nEnvironment=X=1\n");
    assert.ok(logLines.some((l) => l.includes("info") && l.includes("docker.service is not in the root yet")), logLines.join("\n"));
    assert.ok(!logLines.some((l) => /\b(warn|error)\b/.test(l) && l.includes("docker")), logLines.join("\n"));
  });

  it("a unit that arrives later is enabled by a later run from the same config (re-provisioning)", async () => {
    const config = { ignition: { version: V }, systemd: { units: [{ name: "late.service", enabled: true }] } };
    await applyConfig(t.root, config);
    mkdirSync(join(t.root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(join(t.root, "usr/lib/systemd/system/late.service"), `${SVC}[Install]\nWantedBy=multi-user.target\n`);
    await applyConfig(t.root, config);
    assert.ok(snapshotTree(join(t.root, "etc/systemd/system")).some((l) => l.includes("multi-user.target.wants/late.service") && l.includes("-> /usr/lib/systemd/system/late.service")));
  });

  it("a masked unit is not linked, and the stage goes on", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      systemd: { units: [{ name: "m.service", mask: true, enabled: true }, { name: "ok.service", enabled: true, contents: `${SVC}[Install]\nWantedBy=multi-user.target\n` }] },
    });
    const tree = snapshotTree(join(t.root, "etc/systemd/system"));
    assert.ok(tree.some((l) => l.startsWith("link m.service ") && l.endsWith("-> /dev/null")));
    assert.ok(!tree.some((l) => l.includes("wants/m.service")));
    assert.ok(tree.some((l) => l.includes("wants/ok.service")));
  });
});

describe("[Install] parsing", () => {
  it("reads only the [Install] section, with lists, resets and DefaultInstance", () => {
    const parsed = parseInstallSection("[Unit]\nWantedBy=nope.target\n[Install]\nWantedBy=a.target b.target\r\nAlias=x.service\nAlso=y.service\nAlso=\nAlso=z.service\nDefaultInstance=d\n[X-Other]\nWantedBy=no.target\n");
    assert.deepEqual(parsed, { wantedBy: ["a.target", "b.target"], requiredBy: [], upheldBy: [], also: ["z.service"], alias: ["x.service"], defaultInstance: "d" });
  });
});
