import { choose, mix, pick } from './random';

/** Vendor-neutral realistic values the simulators draw from. */
const FIRST = ['Alice', 'Bob', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ivan', 'Julia', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara'];
const LAST = ['Smith', 'Okafor', 'Wang', 'Levi', 'Novak', 'Haddad', 'Silva', 'Kowalski', 'Tanaka', 'Müller', 'Dubois', 'Rossi', 'Nguyen', 'Patel', 'Andersen'];

export const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'curl/8.7.1',
  'python-requests/2.32.3',
  'Go-http-client/2.0',
  'terraform-provider/1.9.2',
] as const;

/** A person of the simulated organisation; `n` indexes a fixed population. */
export interface Person {
  n: number;
  name: string;
  email: string;
}

export function personOf(n: number, domain: string): Person {
  const first = FIRST[n % FIRST.length]!;
  const last = LAST[Math.floor(n / FIRST.length) % LAST.length]!;
  const ascii = `${first}.${last}`.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return { n, name: `${first} ${last}`, email: `${ascii}${n >= FIRST.length * LAST.length ? n : ''}@${domain}` };
}

/** A person drawn for event `index`, skewed so that a few people do most of the work. */
export function personFor(seed: number, index: number, salt: number, population: number, domain: string): Person {
  const r = mix(seed, index, salt) / 0x1_0000_0000;
  return personOf(Math.floor(population * r * r), domain);
}

/** A public-looking client IP from the documentation ranges (RFC 5737 / RFC 3849). */
export function clientIpFor(seed: number, index: number, salt: number): string {
  const v = mix(seed, index, salt);
  if (v % 10 === 0) return `2001:db8::${(v >>> 8).toString(16).slice(0, 4)}`;
  const prefix = choose(['192.0.2', '198.51.100', '203.0.113'], seed, index, salt + 1);
  return `${prefix}.${1 + (v % 254)}`;
}

export function userAgentFor(seed: number, index: number, salt: number): string {
  return USER_AGENTS[pick(seed, index, salt, USER_AGENTS.length)]!;
}
