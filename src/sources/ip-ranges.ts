import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The canonical form of one `clientIps` filter value, or null when it is neither an address nor
 * a CIDR range: IPv4 as four decimal parts (no octal, hex or shortened forms, which some parsers
 * read differently), IPv6 as RFC 5952 text without a zone, an IPv4-mapped IPv6 address as its
 * IPv4 form (the same client, whichever way an upstream wrote it down), and a range as its
 * network address with the host bits cleared, `/` and the prefix length.
 */
export function canonicalIpOrRange(text: string): string | null {
  const slash = text.indexOf('/');
  const address = parseStrict(slash === -1 ? text : text.slice(0, slash));
  if (!address) return null;
  if (slash === -1) return plain(address).toString();
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  let prefix = Number(prefixText);
  let network: ipaddr.IPv4 | ipaddr.IPv6 = address;
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    network = (address as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const bits = network.kind() === 'ipv4' ? 32 : 128;
  if (prefix > bits) return null;
  const cleared =
    network.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${network.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${network.toString()}/${prefix}`);
  return `${cleared.toString()}/${prefix}`;
}

/**
 * A matcher over canonical addresses and ranges (from {@link canonicalIpOrRange}). An event's
 * address that is not an IP (a vendor's free text, a hostname) matches nothing; IPv4-mapped IPv6
 * addresses match their IPv4 form, both ways.
 */
export function ipMatcher(canonical: readonly string[]): (address: string | null) => boolean {
  const list = new BlockList();
  for (const entry of canonical) {
    const slash = entry.indexOf('/');
    const family = isIP(slash === -1 ? entry : entry.slice(0, slash)) === 6 ? 'ipv6' : 'ipv4';
    if (slash === -1) list.addAddress(entry, family);
    else list.addSubnet(entry.slice(0, slash), Number(entry.slice(slash + 1)), family);
  }
  return (address) => {
    if (address === null) return false;
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

function parseStrict(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return null;
}

function plain(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}
