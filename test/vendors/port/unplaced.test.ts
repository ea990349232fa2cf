import { windowQuery } from '../../../src/sources/data-source';
import { UnusableRecord } from '../../../src/sources/normalize-page';
import { ascCoverage, countUnplaced, descCoverage, notingUnplaced, unplacedRecord, type UnplacedRecord } from '../../../src/vendors/port/unplaced';

describe('records that cannot be placed, counted once per traversal', () => {
  it('keys a record by its identifier, or by its whole text without one, and keeps its time where usable', () => {
    expect(unplacedRecord({ identifier: 'log-1', trigger: { at: 'yesterday' } })).toEqual({ key: 'id:log-1', atMs: null });
    expect(unplacedRecord({ trigger: { at: '2024-04-23T12:00:00.000Z' }, data: 'test log data' })).toEqual({
      key: 'json:{"trigger":{"at":"2024-04-23T12:00:00.000Z"},"data":"test log data"}',
      atMs: Date.UTC(2024, 3, 23, 12),
    });
    expect(unplacedRecord({ identifier: '', trigger: { at: 'Z' } })).toEqual({ key: 'json:{"identifier":"","trigger":{"at":"Z"}}', atMs: null });
    expect(unplacedRecord(null)).toEqual({ key: 'json:null', atMs: null });
  });

  it('counts distinct records whose time lies in the covered range, and every timeless one', () => {
    const records: UnplacedRecord[] = [
      { key: 'a', atMs: 10 },
      { key: 'a', atMs: 10 },
      { key: 'b', atMs: 20 },
      { key: 'c', atMs: 30 },
      { key: 'd', atMs: null },
      { key: 'd', atMs: null },
    ];
    expect(countUnplaced(records, { from: 10, to: 30 })).toBe(3);
    expect(countUnplaced(records, { from: null, to: null })).toBe(4);
    expect(countUnplaced(records, { from: 31, to: null })).toBe(1);
  });

  it('takes a batch’s covered range from where it started and where the next one starts', () => {
    const query = windowQuery(100, 900);
    expect(descCoverage(query, null, { b: 500, n: 2 })).toEqual({ from: 500, to: 900 });
    expect(descCoverage(query, { b: 500, n: 2 }, null)).toEqual({ from: 100, to: 500 });
    expect(descCoverage(windowQuery(null, null), null, null)).toEqual({ from: null, to: null });
    expect(ascCoverage(query, null, { a: 300, w: 10, u: null })).toEqual({ from: 100, to: 300 });
    expect(ascCoverage(query, { a: 300, w: 10, u: null }, null)).toEqual({ from: 300, to: 900 });
    // A batch that only narrowed its window covered nothing yet.
    expect(ascCoverage(query, { a: 300, w: 10, u: null }, { a: 300, w: 2, u: null })).toEqual({ from: 300, to: 300 });
  });

  it('notes each record the parser refuses, and still refuses it', () => {
    const unplaced: UnplacedRecord[] = [];
    const { parse } = notingUnplaced(unplaced);
    expect(() => parse({ trigger: { at: '2024-04-23T12:00:00.000Z' } })).toThrow(UnusableRecord);
    expect(parse({ identifier: 'ok', trigger: { at: '2024-04-23T12:00:00.000Z' } }).identifier).toBe('ok');
    expect(unplaced).toHaveLength(1);
  });
});
