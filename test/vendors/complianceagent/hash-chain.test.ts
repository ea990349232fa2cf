import { SyntheticDataset } from '../../../src/simulation/dataset';
import { ChainWalker, entryHash, verifyChain } from '../../../src/vendors/complianceagent/hash-chain';
import { ComplianceAgentData } from '../../../src/vendors/complianceagent/simulator-data';

/** A clean chain of `size` list-form entries, oldest first, as plain JSON. */
function chain(size: number, seed = 11): Record<string, unknown>[] {
  const data = new ComplianceAgentData(new SyntheticDataset({ size, seed, endMs: Date.UTC(2026, 0, 1) }));
  return Array.from({ length: size }, (_, i) => JSON.parse(JSON.stringify(data.entry(i))) as Record<string, unknown>);
}

describe('entryHash', () => {
  it('is sha256 over the entry without its hash, whatever the key order', () => {
    const entry = { id: 'log_1', timestamp: '2024-01-01T00:00:00.000Z', previous_hash: null };
    const hash = entryHash(entry);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(entryHash({ hash: 'sha256:whatever', previous_hash: null, timestamp: '2024-01-01T00:00:00.000Z', id: 'log_1' })).toBe(hash);
    expect(entryHash({ ...entry, id: 'log_2' })).not.toBe(hash);
  });
});

describe('the simulated chain', () => {
  it('starts with previous_hash null and links every entry to the one before', () => {
    const entries = chain(101);
    expect(entries[0]!['previous_hash']).toBeNull();
    const result = verifyChain(entries, { previousHash: null, expectedCount: entries.length, expectedLastHash: entries[entries.length - 1]!['hash'] as string });
    expect(result).toMatchObject({ valid: true, checked: entries.length, hashMismatches: 0, gapsDetected: 0, firstBadIndex: null });
  });

  it('serves the same hashes whatever order entries are first asked for', () => {
    const dataset = new SyntheticDataset({ size: 200, seed: 5, endMs: Date.UTC(2026, 0, 1) });
    const backwards = new ComplianceAgentData(dataset);
    const forwards = new ComplianceAgentData(dataset);
    const late = Array.from({ length: 200 }, (_, i) => backwards.hashOf(199 - i)).reverse();
    expect(late).toEqual(Array.from({ length: 200 }, (_, i) => forwards.hashOf(i)));
  });

  it('extends the chain over appended entries', () => {
    const dataset = new SyntheticDataset({ size: 40, seed: 5, endMs: Date.UTC(2026, 0, 1) });
    const data = new ComplianceAgentData(dataset);
    const before = data.hashOf(39);
    dataset.append(30, Date.UTC(2026, 0, 2));
    const entries = Array.from({ length: 70 }, (_, i) => data.entry(i)! as unknown as Record<string, unknown>);
    expect(data.hashOf(39)).toBe(before);
    expect(verifyChain(entries, { previousHash: null }).valid).toBe(true);
  });
});

describe('verifyChain tamper detection', () => {
  const clean = chain(50);

  it('names a record with one changed byte', () => {
    const entries = clean.map((entry) => ({ ...entry }));
    entries[17] = { ...entries[17]!, ip_address: `${String(entries[17]!['ip_address'])}9` };
    const result = verifyChain(entries);
    expect(result).toMatchObject({ valid: false, firstBadIndex: 17, hashMismatches: 1, gapsDetected: 0 });
    expect(result.problems).toEqual([{ index: 17, kind: 'hash_mismatch' }]);
  });

  it('names the position of a deleted record', () => {
    const entries = clean.filter((_, i) => i !== 20);
    const result = verifyChain(entries);
    expect(result).toMatchObject({ valid: false, firstBadIndex: 20, gapsDetected: 1, hashMismatches: 0 });
    expect(result.problems[0]).toEqual({ index: 20, kind: 'missing_record' });
  });

  it('names the first of two swapped records', () => {
    const entries = [...clean];
    [entries[30], entries[31]] = [entries[31]!, entries[30]!];
    const result = verifyChain(entries);
    expect(result.valid).toBe(false);
    expect(result.firstBadIndex).toBe(30);
    expect(result.problems[0]).toEqual({ index: 30, kind: 'reordered' });
  });

  it('names an inserted record, even one with a valid hash of its own', () => {
    const forged: Record<string, unknown> = { ...clean[9]!, id: 'log_forged', previous_hash: clean[9]!['hash'] };
    forged['hash'] = entryHash(forged);
    const entries = [...clean.slice(0, 10), forged, ...clean.slice(10)];
    const result = verifyChain(entries);
    expect(result).toMatchObject({ valid: false, firstBadIndex: 10, hashMismatches: 0 });
    expect(result.problems).toContainEqual({ index: 10, kind: 'inserted_record' });
  });

  it('catches a cut tail only through the expected count and last hash', () => {
    const cut = clean.slice(0, 45);
    expect(verifyChain(cut).valid).toBe(true);
    const result = verifyChain(cut, { expectedCount: 50, expectedLastHash: clean[49]!['hash'] as string });
    expect(result.valid).toBe(false);
    expect(result.problems.map((problem) => problem.kind)).toEqual(['last_hash_mismatch', 'count_mismatch']);
    expect(result.firstBadIndex).toBe(44);
  });

  it('requires a genesis entry when told the list starts the chain', () => {
    expect(verifyChain(clean.slice(5), { previousHash: null })).toMatchObject({ valid: false, firstBadIndex: 0 });
    expect(verifyChain(clean.slice(5), { previousHash: clean[4]!['hash'] as string }).valid).toBe(true);
  });

  it('reports an entry without an id or a readable timestamp, whose hash and links are intact, as unplaceable', () => {
    const entries = clean.map((entry) => ({ ...entry }));
    for (const [index, change] of [[12, { id: null }], [49, { timestamp: 'n/a' }]] as const) {
      const changed: Record<string, unknown> = { ...entries[index]!, ...change };
      changed['hash'] = entryHash(changed);
      entries[index] = changed;
      if (index + 1 < entries.length) entries[index + 1] = { ...entries[index + 1]!, previous_hash: changed['hash'] };
    }
    // Relinking the follower changes its content, so it no longer matches its own hash.
    const result = verifyChain(entries);
    expect(result.valid).toBe(false);
    expect(result.problems).toEqual([
      { index: 12, kind: 'unplaceable' },
      { index: 13, kind: 'hash_mismatch' },
      { index: 49, kind: 'unplaceable' },
    ]);
  });

  it('checks only the entries it includes, each against the entry before it in the whole chain, and tags their problems', () => {
    const entries = clean.map((entry) => ({ ...entry }));
    entries[21] = { ...entries[21]!, details: { changed: true } };
    entries[33] = { ...entries[33]!, details: { changed: true } };
    const withoutDeleted = entries.filter((_, i) => i !== 40);
    const included = new Set([21, 41]);
    const walker = new ChainWalker<number>({ include: (entry) => included.has(clean.findIndex((original) => original['id'] === entry['id'])) });
    withoutDeleted.forEach((entry, position) => walker.push(entry, position));
    const { verification, tagged, firstByKind } = walker.finish();
    // Entry 33 changed too, but is not included; entry 41 follows the deleted 40, at position 40.
    expect(verification).toMatchObject({ valid: false, checked: 2, hashMismatches: 1, gapsDetected: 1 });
    expect(tagged).toEqual([
      { index: 21, kind: 'hash_mismatch', tag: 21 },
      { index: 40, kind: 'missing_record', tag: 40 },
    ]);
    expect(firstByKind.get('missing_record')).toEqual({ index: 40, kind: 'missing_record', tag: 40 });
  });

  it('verifies an empty list', () => {
    expect(verifyChain([])).toMatchObject({ valid: true, checked: 0, lastHash: null });
  });

  it('verifies 100,000 realistic entries well within the D9 budget', () => {
    // 1,000 simulated entries, reused with fresh ids and chained anew: realistic sizes without
    // paying for 100,000 generated records in a unit test.
    const templates = chain(1000, 3);
    const entries: Record<string, unknown>[] = [];
    let previous: string | null = null;
    for (let i = 0; i < 100_000; i++) {
      const timestamp = new Date(Date.UTC(2025, 0, 1) + i * 500).toISOString();
      const entry: Record<string, unknown> = { ...templates[i % 1000]!, id: `log_${i}`, timestamp, previous_hash: previous };
      delete entry['hash'];
      entry['hash'] = previous = entryHash(entry);
      entries.push(entry);
    }
    const started = process.hrtime.bigint();
    const result = verifyChain(entries, { previousHash: null });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`verifyChain: 100,000 entries in ${ms.toFixed(0)} ms\n`);
    expect(result.valid).toBe(true);
    // docs/reliability.md (D9) asks for 1,000,000 in 30 s (3 s for this size) on a quiet machine; the
    // ceiling here is loose so a loaded CI box does not flake, and still catches a quadratic walk.
    expect(ms).toBeLessThan(30_000);
  });
});
