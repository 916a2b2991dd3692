import { describe, expect, test } from "vitest";
import { decodeIPv4, decodeIPv6, parseProcNetTCP } from "./proc-net-tcp.js";

const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
`;

const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6 1 0000000000000000 100 0 0 10 0
`;

describe("parseProcNetTCP", () => {
  test("keeps LISTEN sockets and decodes little-endian IPv4 words", () => {
    expect(parseProcNetTCP(tcp, "ipv4")).toEqual([
      { port: 8080, address: "127.0.0.1", family: "ipv4" },
      { port: 22, address: "0.0.0.0", family: "ipv4" },
    ]);
  });

  test("decodes IPv6 words, compressing zero runs", () => {
    expect(parseProcNetTCP(tcp6, "ipv6")).toEqual([
      { port: 3000, address: "::1", family: "ipv6" },
      { port: 80, address: "::", family: "ipv6" },
      { port: 8081, address: "::ffff:7f00:1", family: "ipv6" },
    ]);
  });

  test("rejects malformed addresses", () => {
    expect(decodeIPv4("XYZ")).toBeUndefined();
    expect(decodeIPv6("00")).toBeUndefined();
    expect(decodeIPv4("0101A8C0")).toBe("192.168.1.1");
    expect(decodeIPv6("B80D0120000000000000000001000000")).toBe("2001:db8::1");
  });
});
