import { guardedLookup, isPrivateAddress } from '../../src/http/ssrf';

describe('the SSRF guard', () => {
  it.each([
    ['loopback', '127.0.0.1'],
    ['unspecified', '0.0.0.0'],
    ['RFC 1918', '10.1.2.3'],
    ['RFC 1918', '172.16.0.1'],
    ['RFC 1918', '192.168.1.1'],
    ['link-local / cloud metadata', '169.254.169.254'],
    ['CGNAT', '100.64.0.1'],
    ['benchmarking (198.18.0.0/15)', '198.19.255.1'],
    ['IETF protocol assignments (192.0.0.0/24)', '192.0.0.170'],
    ['documentation', '203.0.113.9'],
    ['multicast', '239.1.1.1'],
    ['reserved (240.0.0.0/4)', '250.1.1.1'],
    ['broadcast', '255.255.255.255'],
    ['IPv6 loopback', '::1'],
    ['IPv6 unspecified', '::'],
    ['IPv6 unique-local', 'fd12:3456::1'],
    ['IPv6 link-local', 'fe80::1'],
    ['IPv6 site-local (fec0::/10)', 'fec0::1'],
    ['IPv6 multicast', 'ff02::1'],
    ['IPv4-mapped IPv6 of cloud metadata', '::ffff:a9fe:a9fe'],
    ['IPv4-mapped IPv6 of loopback, dotted', '::ffff:127.0.0.1'],
    ['NAT64 (64:ff9b::/96)', '64:ff9b::a9fe:a9fe'],
    ['6to4 (2002::/16)', '2002:a9fe:a9fe::1'],
    ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['IPv6 documentation', '2001:db8::1'],
    ['not an address at all', 'metadata.internal'],
  ])('refuses %s: %s', (_range, address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '104.16.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('lets a public unicast address through: %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('refuses at connect time a name that resolves to a private address', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (err) => resolve(err)));
    expect(error?.code).toBe('EADDRREFUSED_SSRF');
  });
});
