import { BlockList, isIP } from "node:net";

/**
 * What an IP address is, as far as reaching it from the control plane goes. Everything but `public` is
 * inside someone's network (ours, the cloud's, the host's) and refused by the outbound policy unless allowed.
 */
export type AddressClass =
  | "public"
  | "loopback"
  | "unspecified"
  | "private"
  | "shared" // CGNAT 100.64.0.0/10, which clouds also use for internal services
  | "link-local"
  | "unique-local"
  | "metadata"
  | "multicast"
  | "reserved";

function list(ranges: Array<[string, number, "ipv4" | "ipv6"]>): BlockList {
  const blockList = new BlockList();
  for (const [network, prefix, family] of ranges) blockList.addSubnet(network, prefix, family);
  return blockList;
}

/** Instance metadata services: AWS (v4 and v6), and the same address on GCP and Azure; Alibaba's. */
const metadata = list([
  ["169.254.169.254", 32, "ipv4"],
  ["169.254.170.2", 32, "ipv4"],
  ["100.100.100.200", 32, "ipv4"],
  ["fd00:ec2::254", 128, "ipv6"],
]);

const ipv4Classes: Array<[AddressClass, BlockList]> = [
  ["unspecified", list([["0.0.0.0", 8, "ipv4"]])],
  ["loopback", list([["127.0.0.0", 8, "ipv4"]])],
  ["private", list([["10.0.0.0", 8, "ipv4"], ["172.16.0.0", 12, "ipv4"], ["192.168.0.0", 16, "ipv4"]])],
  ["shared", list([["100.64.0.0", 10, "ipv4"]])],
  ["link-local", list([["169.254.0.0", 16, "ipv4"]])],
  ["multicast", list([["224.0.0.0", 4, "ipv4"]])],
  [
    "reserved",
    list([
      ["192.0.0.0", 24, "ipv4"],
      ["192.0.2.0", 24, "ipv4"],
      ["192.88.99.0", 24, "ipv4"],
      ["198.18.0.0", 15, "ipv4"],
      ["198.51.100.0", 24, "ipv4"],
      ["203.0.113.0", 24, "ipv4"],
      ["240.0.0.0", 4, "ipv4"],
    ]),
  ],
];

const ipv6Classes: Array<[AddressClass, BlockList]> = [
  ["unspecified", list([["::", 128, "ipv6"]])],
  ["loopback", list([["::1", 128, "ipv6"]])],
  ["link-local", list([["fe80::", 10, "ipv6"]])],
  ["unique-local", list([["fc00::", 7, "ipv6"]])],
  ["private", list([["fec0::", 10, "ipv6"]])], // deprecated site-local: still routed inside some networks
  ["multicast", list([["ff00::", 8, "ipv6"]])],
  ["reserved", list([["100::", 64, "ipv6"], ["2001:db8::", 32, "ipv6"], ["2001::", 23, "ipv6"]])],
];

/**
 * Classifies an IPv4 or IPv6 address. IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`
 * in either notation, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are classified by
 * the IPv4 address inside, since that is where a connection to them ends up. Not an IP: undefined.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const family = isIP(address);
  if (family === 4) return classifyIPv4(address);
  if (family !== 6) return undefined;
  const embedded = embeddedIPv4(address);
  if (embedded !== undefined) return classifyIPv4(embedded);
  if (metadata.check(address, "ipv6")) return "metadata";
  return ipv6Classes.find(([, blockList]) => blockList.check(address, "ipv6"))?.[0] ?? "public";
}

function classifyIPv4(address: string): AddressClass {
  if (metadata.check(address, "ipv4")) return "metadata";
  return ipv4Classes.find(([, blockList]) => blockList.check(address, "ipv4"))?.[0] ?? "public";
}

/** The IPv4 address an IPv6 address stands for, if it is one of the forms that embed one. */
export function embeddedIPv4(address: string): string | undefined {
  const words = ipv6Words(address);
  const zeros = (from: number, to: number) => words.slice(from, to).every((word) => word === 0);
  const tail = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  if (zeros(0, 5) && words[5] === 0xffff) return tail(words[6]!, words[7]!); // ::ffff:a.b.c.d
  if (zeros(0, 6) && (words[6] !== 0 || words[7]! > 1)) return tail(words[6]!, words[7]!); // ::a.b.c.d
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return tail(words[6]!, words[7]!); // NAT64
  if (words[0] === 0x2002) return tail(words[1]!, words[2]!); // 6to4
  return undefined;
}

/** The eight 16-bit words of an IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headWords = head === "" ? [] : head.split(":");
  const tailWords = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headWords.length - tailWords.length;
  return [...headWords, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailWords].map((word) => parseInt(word, 16));
}
