import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * True for every address a production gateway must never call: anything but a globally routable
 * unicast address. That covers loopback, RFC 1918, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, benchmarking (198.18.0.0/15), IETF protocol assignments (192.0.0.0/24),
 * documentation, multicast, reserved and unspecified ranges, and on IPv6 unique-local, link-local,
 * site-local (fec0::/10), and the transition ranges that embed an IPv4 address an attacker
 * chooses: NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo. An IPv4-mapped IPv6 address
 * (`::ffff:a9fe:a9fe`) is judged as the IPv4 address it is. The ranges come from ipaddr.js, which
 * follows the IANA special-purpose registries; an address it cannot parse is refused too.
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() !== 'unicast';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for undici's connector that refuses private addresses at connect time, so a name
 * that passed config validation cannot be re-pointed at an internal host (DNS rebinding).
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, []);
      return;
    }
    const list = addresses as dns.LookupAddress[];
    const blocked = list.find((entry) => isPrivateAddress(entry.address));
    if (blocked || list.length === 0) {
      const refusal: NodeJS.ErrnoException = new Error('address refused by the SSRF guard');
      refusal.code = 'EADDRREFUSED_SSRF';
      callback(refusal, []);
      return;
    }
    if (options.all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  });
}
