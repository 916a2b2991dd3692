export interface ListeningPort {
  port: number;
  /** The bound address as the kernel reports it: 0.0.0.0, 127.0.0.1, ::, ::1… */
  address: string;
  family: "ipv4" | "ipv6";
}
