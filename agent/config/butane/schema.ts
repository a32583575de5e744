// Butane's fields, per variant and version: each is an Ignition 3.x field
// under its snake_case name (present from the Ignition minor that has it), or
// Butane's own sugar (`json: null`), which the `after` hooks in sugar.ts turn
// into Ignition fields.

import { BOOL, INT, listOf, STRING, type FieldSpec, type ObjectSpec } from "./read";
import * as sugar from "./sugar";

const f = (kind: FieldSpec["kind"], opts: Omit<FieldSpec, "kind"> = {}): FieldSpec => ({ kind, ...opts });
const strings = listOf(STRING);

const verification: ObjectSpec = { fields: { hash: f(STRING) } };
const header: ObjectSpec = { fields: { name: f(STRING), value: f(STRING) } };

/** Contents and other fetched things; `inline`/`local` become a data: URL. */
const resource = (referenceCompressionSince = 0): ObjectSpec => ({
  fields: {
    source: f(STRING),
    inline: f(STRING, { json: null }),
    local: f(STRING, { json: null, since: 1 }),
    compression: f(STRING, { since: referenceCompressionSince }),
    http_headers: f(listOf(header), { since: 1 }),
    verification: f(verification),
  },
  after: sugar.resourceContents,
});

const fileResource = resource();
const reference = resource(1);

const ignition: ObjectSpec = {
  fields: {
    config: f({ fields: { merge: f(listOf(reference)), replace: f(reference) } }),
    timeouts: f({ fields: { http_response_headers: f(INT), http_total: f(INT) } }),
    security: f({ fields: { tls: f({ fields: { certificate_authorities: f(listOf(reference)) } }) } }),
    proxy: f({ fields: { http_proxy: f(STRING), https_proxy: f(STRING), no_proxy: f(strings) } }, { since: 1 }),
  },
};

const owner: ObjectSpec = { fields: { id: f(INT), name: f(STRING) } };
const nodeFields = { path: f(STRING), overwrite: f(BOOL), user: f(owner), group: f(owner) };

const file: ObjectSpec = {
  fields: { ...nodeFields, contents: f(fileResource), append: f(listOf(fileResource)), mode: f(INT) },
  after: sugar.fileMode(false),
};
const directory: ObjectSpec = { fields: { ...nodeFields, mode: f(INT) }, after: sugar.fileMode(true) };
const link: ObjectSpec = { fields: { ...nodeFields, target: f(STRING), hard: f(BOOL) } };

const partition: ObjectSpec = {
  fields: {
    label: f(STRING),
    number: f(INT),
    size_mib: f(INT),
    start_mib: f(INT),
    type_guid: f(STRING),
    guid: f(STRING),
    wipe_partition_entry: f(BOOL),
    should_exist: f(BOOL),
    resize: f(BOOL, { since: 2 }),
  },
};
const disk: ObjectSpec = { fields: { device: f(STRING), wipe_table: f(BOOL), partitions: f(listOf(partition)) } };
const raid: ObjectSpec = { fields: { name: f(STRING), level: f(STRING), devices: f(strings), spares: f(INT), options: f(strings) } };
const filesystem: ObjectSpec = {
  fields: {
    device: f(STRING),
    format: f(STRING),
    path: f(STRING),
    wipe_filesystem: f(BOOL),
    label: f(STRING),
    uuid: f(STRING),
    options: f(strings),
    mount_options: f(strings, { since: 1 }),
    with_mount_unit: f(BOOL, { json: null, since: 1 }),
  },
  after: sugar.filesystemMountUnit,
};

const tang: ObjectSpec = { fields: { url: f(STRING), thumbprint: f(STRING), advertisement: f(STRING, { since: 4 }) } };
const clevis: ObjectSpec = {
  fields: {
    tang: f(listOf(tang)),
    tpm2: f(BOOL),
    threshold: f(INT),
    custom: f({ fields: { pin: f(STRING), config: f(STRING), needs_network: f(BOOL) } }),
  },
};
const luks: ObjectSpec = {
  fields: {
    name: f(STRING),
    device: f(STRING),
    key_file: f(fileResource),
    label: f(STRING),
    uuid: f(STRING),
    options: f(strings),
    discard: f(BOOL, { since: 4 }),
    open_options: f(strings, { since: 4 }),
    wipe_volume: f(BOOL),
    clevis: f(clevis),
    cex: f({ fields: { enabled: f(BOOL) } }, { since: 5 }),
  },
  after: sugar.luksClevisSupport,
};
const tree: ObjectSpec = { fields: { local: f(STRING, { json: null }), path: f(STRING, { json: null }) }, after: sugar.tree };

const storage: ObjectSpec = {
  fields: {
    disks: f(listOf(disk)),
    raid: f(listOf(raid)),
    filesystems: f(listOf(filesystem)),
    files: f(listOf(file)),
    directories: f(listOf(directory)),
    links: f(listOf(link)),
    luks: f(listOf(luks), { since: 2 }),
    trees: f(listOf(tree), { json: null, since: 1 }),
  },
};

const dropin: ObjectSpec = {
  fields: { name: f(STRING), contents: f(STRING), contents_local: f(STRING, { json: null, since: 4 }) },
  after: sugar.unitContentsLocal,
};
const unit: ObjectSpec = {
  fields: {
    name: f(STRING),
    enabled: f(BOOL),
    mask: f(BOOL),
    contents: f(STRING),
    contents_local: f(STRING, { json: null, since: 4 }),
    dropins: f(listOf(dropin)),
  },
  after: sugar.unitContentsLocal,
};

const user: ObjectSpec = {
  fields: {
    name: f(STRING),
    password_hash: f(STRING),
    ssh_authorized_keys: f(strings),
    ssh_authorized_keys_local: f(strings, { json: null, since: 4 }),
    uid: f(INT),
    gecos: f(STRING),
    home_dir: f(STRING),
    no_create_home: f(BOOL),
    primary_group: f(STRING),
    groups: f(strings),
    no_user_group: f(BOOL),
    no_log_init: f(BOOL),
    shell: f(STRING),
    should_exist: f(BOOL, { since: 2 }),
    system: f(BOOL),
  },
  after: sugar.sshKeysLocal,
};
const group: ObjectSpec = {
  fields: { name: f(STRING), gid: f(INT), password_hash: f(STRING), should_exist: f(BOOL, { since: 2 }), system: f(BOOL) },
};

const bootDevice: ObjectSpec = {
  fields: {
    layout: f(STRING, { json: null }),
    luks: f(
      {
        fields: {
          tang: f(listOf(tang)),
          threshold: f(INT),
          tpm2: f(BOOL),
          discard: f(BOOL, { since: 4 }),
          // fcos 1.6: the s390x boot disk and IBM CEX keys (read to be refused: bootDeviceChecks).
          device: f(STRING, { since: 5 }),
          cex: f({ fields: { enabled: f(BOOL) } }, { since: 5 }),
        },
      },
      { json: null },
    ),
    mirror: f({ fields: { devices: f(strings) } }, { json: null }),
  },
  after: sugar.bootDeviceChecks,
};
const grub: ObjectSpec = {
  fields: { users: f(listOf({ fields: { name: f(STRING), password_hash: f(STRING) }, after: sugar.grubUserChecks }), { json: null }) },
  after: sugar.grub,
};

/** The whole document (variant and version are read before, by index.ts). */
export const ROOT: ObjectSpec = {
  fields: {
    variant: f(STRING, { json: null }),
    version: f(STRING, { json: null }),
    ignition: f(ignition),
    storage: f(storage),
    systemd: f({ fields: { units: f(listOf(unit)) } }),
    passwd: f({ fields: { users: f(listOf(user)), groups: f(listOf(group)) } }),
    kernel_arguments: f({ fields: { should_exist: f(strings), should_not_exist: f(strings) } }, { since: 3 }),
    boot_device: f(bootDevice, { json: null, when: (v) => v.bootDevice }),
    grub: f(grub, { json: null, when: (v) => v.grubUsers }),
  },
};
