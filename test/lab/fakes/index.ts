// The fake clouds by platform id.

import { aws } from "./aws";
import { azure } from "./azure";
import { digitalocean } from "./digitalocean";
import { gcp } from "./gcp";
import { hetzner } from "./hetzner";
import { openstack } from "./openstack";
import { packet } from "./packet";
import type { CloudOptions, FakeCloud } from "./service";
import { akamai, aliyun, cloudstack, exoscale, oraclecloud, scaleway, upcloud } from "./user-data-clouds";
import { vultr } from "./vultr";

/** Proxmox VE has no metadata service: the config is on its NoCloud drive (clouds.ts). */
const proxmoxve = (): FakeCloud => ({ addresses: [], listeners: [] });

export const FAKE_CLOUDS: Record<string, (options: CloudOptions) => FakeCloud> = { aws, gcp, azure, digitalocean, openstack, packet, hetzner, vultr, akamai, aliyun, exoscale, oraclecloud, scaleway, upcloud, cloudstack, proxmoxve };
