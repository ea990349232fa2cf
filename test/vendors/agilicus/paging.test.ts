import { NO_FILTER } from '../../contract/datasource-contract';
import type { SourceQuery } from '../../../src/sources/data-source';
import { judgePage, nextProbeWidth, queryRange, upstreamWindow } from '../../../src/vendors/agilicus/paging';

const QUERY: SourceQuery = { ...NO_FILTER, fromMs: 1000, toMs: 2000 };

describe('forward ranges', () => {
  it('maps a query window to an inclusive range walked from the top, both directions', () => {
    expect(queryRange('DESC', QUERY)).toEqual({ low: 1000, top: 1999 });
    expect(queryRange('ASC', QUERY)).toEqual({ low: -1999, top: -1000 });
    expect(queryRange('DESC', { ...QUERY, fromMs: null, toMs: null })).toEqual({ low: -Infinity, top: Infinity });
  });

  it('turns a forward range back into dt_from inclusive and dt_to exclusive', () => {
    expect(upstreamWindow('DESC', 1000, 1999)).toEqual({ fromMs: 1000, toMs: 2000 });
    expect(upstreamWindow('ASC', -1999, -1000)).toEqual({ fromMs: 1000, toMs: 2000 });
    expect(upstreamWindow('DESC', 1500, 1500)).toEqual({ fromMs: 1500, toMs: 1501 });
    expect(upstreamWindow('ASC', -Infinity, Infinity)).toEqual({ fromMs: null, toMs: null });
  });
});

describe('judgePage', () => {
  it('takes the whole window from a page that is not full', () => {
    expect(judgePage(10, 99, { times: [50, 60], full: false, nearSide: true }, null)).toEqual({ kind: 'complete', from: 10 });
    expect(judgePage(10, 99, { times: [], full: false, nearSide: false }, null)).toEqual({ kind: 'complete', from: 10 });
  });

  it('keeps the cut lowest timestamp of a full near-side page for the next read', () => {
    expect(judgePage(10, 99, { times: [90, 70, 70, 40], full: true, nearSide: true }, null)).toEqual({ kind: 'complete', from: 41 });
  });

  it('reads a timestamp whole when a full page holds nothing else', () => {
    expect(judgePage(10, 99, { times: [70, 70, 70], full: true, nearSide: true }, null)).toEqual({ kind: 'group', at: 70, from: 70 });
    expect(judgePage(10, 99, { times: [20, 99, 99], full: true, nearSide: false }, null)).toEqual({ kind: 'group', at: 99, from: 10 });
  });

  it('narrows a full far-side page towards the top: above the page, by its density, keeping half the unknown span', () => {
    expect(judgePage(10, 999, { times: [20, 30, 40], full: true, nearSide: false }, null)).toEqual({ kind: 'shrink', bottom: 521, gap: null });
    expect(judgePage(10, 99, { times: [20, 90, 95], full: true, nearSide: false }, null)).toEqual({ kind: 'shrink', bottom: 96, gap: null });
    expect(judgePage(10, 999, { times: [20, 30, 40], full: true, nearSide: false }, 900)).toEqual({ kind: 'shrink', bottom: 100, gap: null });
    expect(judgePage(0, 10_000, { times: [9000, 9000], full: true, nearSide: false }, null)).toEqual({ kind: 'shrink', bottom: 9501, gap: null });
  });

  it('searches an open top with doubling steps', () => {
    const first = judgePage(-Infinity, Infinity, { times: [100, 109], full: true, nearSide: false }, null);
    expect(first).toEqual({ kind: 'shrink', bottom: 119, gap: 20 });
    expect(judgePage(119, Infinity, { times: [130, 140], full: true, nearSide: false }, 20)).toEqual({ kind: 'shrink', bottom: 160, gap: 40 });
  });
});

describe('nextProbeWidth', () => {
  it('aims at half a page and moves at most between half and 16 times the last width', () => {
    expect(nextProbeWidth(100, 10, 100)).toBe(500);
    expect(nextProbeWidth(100, 0, 100)).toBe(1600);
    expect(nextProbeWidth(100, 90, 100)).toBe(55);
    expect(nextProbeWidth(1, 1, 2)).toBe(1);
  });
});

describe('judgePage on a page of one timestamp from an upstream of unknown order', () => {
  it('reads the timestamp whole when it is the top, and otherwise asks what lies above it', () => {
    expect(judgePage(10, 99, { times: [99, 99], full: true, nearSide: null }, null)).toEqual({ kind: 'group', at: 99, from: 99 });
    expect(judgePage(10, 99, { times: [70, 70], full: true, nearSide: null }, null)).toEqual({ kind: 'shrink', bottom: 71, gap: null });
  });
});
