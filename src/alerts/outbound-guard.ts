import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';

/**
 * The SSRF guard for every outbound alert connection (webhooks, Slack, Teams, SMTP). Only
 * http(s) URLs; addresses that are not public are refused unless `alerts.allowPrivateTargets`
 * allows them: `true` allows private, loopback and link-local addresses but never a cloud
 * metadata address; a list allows exactly the addresses and ranges it names (the only way to
 * allow a metadata address).
 *
 * The check is made on the address actually connected to: the guard is the DNS lookup of
 * the connection itself (undici's connector, nodemailer's host), so a name that resolves
 * differently between a check and the connection (DNS rebinding) gains nothing. Literal IP
 * hosts skip DNS, so they are checked before connecting.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

/** Instance-metadata and host-agent endpoints of the main clouds. */
const METADATA = [
  '169.254.169.254', // AWS, Azure IMDS, GCP, OpenStack, DigitalOcean, Oracle
  '169.254.170.2', // AWS ECS task metadata
  '168.63.129.16', // Azure WireServer
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (legacy)
  'fd00:ec2::254', // AWS IMDS over IPv6
];

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net, Number(bits), 'ipv4');
  }
  for (const cidr of v6) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net, Number(bits), 'ipv6');
  }
  return list;
}

const METADATA_LIST = blockList([], []);
for (const m of METADATA) METADATA_LIST.addAddress(m, isIP(m) === 4 ? 'ipv4' : 'ipv6');

// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the IPv4 rules (node's BlockList maps them).
const CLASSES: Array<[AddressClass, BlockList]> = [
  ['loopback', blockList(['127.0.0.0/8'], ['::1/128'])],
  ['private', blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], ['fc00::/7'])],
  ['link-local', blockList(['169.254.0.0/16'], ['fe80::/10'])],
  [
    'reserved',
    blockList(
      [
        '0.0.0.0/8',
        '192.0.0.0/24',
        '192.0.2.0/24',
        '198.18.0.0/15',
        '198.51.100.0/24',
        '203.0.113.0/24',
        '224.0.0.0/4',
        '240.0.0.0/4',
      ],
      ['::/128', 'ff00::/8', '2001:db8::/32', '100::/64'],
    ),
  ],
];

/** The IPv4 address an IPv6 address embeds by a translation scheme (NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const nat64 = /^64:ff9b::(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(lower);
  if (nat64) return nat64[1] ?? hexToIpv4(nat64[2], nat64[3]);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/.exec(lower);
  if (sixToFour) return hexToIpv4(sixToFour[1], sixToFour[2]);
  return undefined;
}

function hexToIpv4(high: string, low: string): string {
  const h = Number.parseInt(high, 16);
  const l = Number.parseInt(low, 16);
  return [h >> 8, h & 255, l >> 8, l & 255].join('.');
}

/** What kind of address this is (IPv4 or IPv6 text; an IPv6 zone id is ignored). */
export function classifyAddress(raw: string): AddressClass {
  const address = raw.split('%')[0];
  const family = isIP(address);
  if (!family) throw new Error(`not an IP address: ${raw}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return classifyAddress(inner);
  }
  if (METADATA_LIST.check(address, type)) return 'metadata';
  for (const [cls, list] of CLASSES) if (list.check(address, type)) return cls;
  return 'public';
}

export class OutboundRefusedError extends Error {
  readonly code = 'DW_OUTBOUND_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

export type AllowPrivateTargets = boolean | string[];

export class OutboundGuard {
  private readonly allowList?: BlockList;
  private agent?: Agent;

  constructor(private readonly allow: AllowPrivateTargets = false) {
    if (Array.isArray(allow)) {
      this.allowList = new BlockList();
      for (const entry of allow) {
        const [address, bits] = entry.split('/');
        const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
        if (!isIP(address))
          throw new Error(`alerts.allowPrivateTargets: ${entry} is not an address or range`);
        if (bits === undefined) this.allowList.addAddress(address, type);
        else this.allowList.addSubnet(address, Number(bits), type);
      }
    }
  }

  /** Whether connecting to `address` is allowed, and what kind of address it is. */
  verdict(address: string): { allowed: boolean; cls: AddressClass } {
    const cls = classifyAddress(address);
    if (cls === 'public') return { allowed: true, cls };
    const bare = address.split('%')[0];
    if (this.allowList?.check(bare, isIP(bare) === 4 ? 'ipv4' : 'ipv6')) return { allowed: true, cls };
    return { allowed: this.allow === true && cls !== 'metadata', cls };
  }

  private refusal(address: string, cls: AddressClass, host: string): OutboundRefusedError {
    const hint =
      cls === 'metadata'
        ? 'cloud metadata addresses are only reachable when alerts.allowPrivateTargets lists them'
        : 'alerts.allowPrivateTargets can allow it';
    const via = host === address ? '' : ` (${host})`;
    return new OutboundRefusedError(`refused to connect to ${cls} address ${address}${via}: ${hint}`);
  }

  /** Throws unless the address may be connected to. */
  checkAddress(address: string, host = address): void {
    const { allowed, cls } = this.verdict(address);
    if (!allowed) throw this.refusal(address, cls, host);
  }

  /** Parses an outbound URL: http(s) only; a literal IP host is checked here (it skips DNS). */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefusedError('not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new OutboundRefusedError(`refused ${url.protocol} URL: only http and https are allowed`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) this.checkAddress(host);
    return url;
  }

  /** Resolves a host to the addresses that may be connected to; throws when there is none. */
  resolve(host: string): Promise<LookupAddress[]> {
    if (isIP(host)) {
      this.checkAddress(host);
      return Promise.resolve([{ address: host, family: isIP(host) }]);
    }
    return new Promise((resolve, reject) => {
      dnsLookup(host, { all: true }, (err, addresses) => {
        if (err) return reject(err);
        const allowed = addresses.filter((a) => this.verdict(a.address).allowed);
        if (allowed.length === 0) {
          const first = addresses[0];
          return reject(
            first
              ? this.refusal(first.address, this.verdict(first.address).cls, host)
              : new OutboundRefusedError(`${host} has no address`),
          );
        }
        resolve(allowed);
      });
    });
  }

  /** A `lookup` for net/tls.connect: resolves through the guard. */
  readonly lookup = (
    hostname: string,
    options: { all?: boolean } | number | undefined,
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    this.resolve(hostname).then(
      (addresses) =>
        all ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family),
      (err: Error) => callback(err, all ? [] : ''),
    );
  };

  /** An undici dispatcher whose every connection resolves through the guard. */
  dispatcher(): Agent {
    this.agent ??= new Agent({ connect: { lookup: this.lookup as never } });
    return this.agent;
  }

  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }
}

/** The OutboundRefusedError behind an error (undici wraps connect errors as `fetch failed`). */
export function refusalIn(err: unknown): OutboundRefusedError | undefined {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e instanceof OutboundRefusedError) return e;
    e = e.cause as { cause?: unknown } | undefined;
  }
  return undefined;
}
