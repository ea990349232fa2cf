import { clusterByTime, MAX_IDS_PER_BATCH, type WantedEvent } from '../../src/connection/event-loader';

const wanted = (times: number[]): WantedEvent[] => times.map((occurredAtMs, index) => ({ index, ref: { occurredAtMs, sourceEventId: `e${index}` } }));
const timesOf = (clusters: WantedEvent[][]) => clusters.map((cluster) => cluster.map((one) => one.ref.occurredAtMs));

describe('clusterByTime', () => {
  it('groups refs oldest first and splits where the gap exceeds the limit', () => {
    expect(timesOf(clusterByTime(wanted([50, 10, 2000, 30, 2100, 9000]), 100))).toEqual([[10, 30, 50], [2000, 2100], [9000]]);
  });

  it('keeps refs exactly the limit apart together', () => {
    expect(timesOf(clusterByTime(wanted([0, 100, 200]), 100))).toEqual([[0, 100, 200]]);
  });

  it('starts a new group once one holds the batch maximum, even without a gap', () => {
    const clusters = clusterByTime(wanted(Array.from({ length: MAX_IDS_PER_BATCH * 2 + 1 }, () => 5)), 100);
    expect(clusters.map((cluster) => cluster.length)).toEqual([MAX_IDS_PER_BATCH, MAX_IDS_PER_BATCH, 1]);
  });

  it('keeps every ref exactly once with its index', () => {
    const input = wanted([7, 3, 3, 900, 1]);
    const indexes = clusterByTime(input, 10).flat().map((one) => one.index).sort();
    expect(indexes).toEqual([0, 1, 2, 3, 4]);
  });
});
