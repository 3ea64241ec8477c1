import { DeliveryChecker, NamedCounts, percentiles, PtsSequence } from './stats';

describe('percentiles', () => {
  it('is all zero without samples', () => {
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('takes the nearest rank of 1..100 whatever the input order', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(samples)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('gives the single sample for every percentile', () => {
    expect(percentiles([7.5])).toEqual({ count: 1, p50: 7.5, p90: 7.5, p99: 7.5, max: 7.5 });
  });
});

describe('NamedCounts', () => {
  it('adds up by name', () => {
    const c = new NamedCounts();
    c.add('FLOOD_WAIT_3');
    c.add('TIMEOUT', 2);
    c.add('FLOOD_WAIT_3');
    expect(c.toObject()).toEqual({ FLOOD_WAIT_3: 2, TIMEOUT: 2 });
    expect(c.total).toBe(4);
  });
});

describe('PtsSequence', () => {
  it('applies updates in order', () => {
    const s = new PtsSequence(10);
    s.add(11, 1);
    s.add(13, 2);
    expect(s.pts).toBe(13);
    expect([s.gaps, s.reordered, s.repeats, s.overlaps]).toEqual([0, 0, 0, 0]);
  });

  it('holds an update that came early until the hole before it fills', () => {
    const s = new PtsSequence(0);
    s.add(2, 1);
    s.add(3, 1);
    expect(s.pts).toBe(0);
    expect(s.gaps).toBe(1);
    s.add(1, 1);
    expect(s.pts).toBe(3);
    expect(s.gaps).toBe(0);
    expect(s.reordered).toBe(2);
  });

  it('counts a hole never filled as a gap', () => {
    const s = new PtsSequence(5);
    s.add(6, 1);
    s.add(8, 1); // 7 never comes
    expect(s.pts).toBe(6);
    expect(s.gaps).toBe(1);
  });

  it('counts one hole once however many updates wait behind it', () => {
    const s = new PtsSequence(0);
    s.add(1, 1);
    for (let pts = 3; pts <= 10; pts++) s.add(pts, 1); // 2 never comes
    s.add(13, 1); // nor 12 (11 is missing too: one hole of two)
    expect(s.pts).toBe(1);
    expect(s.gaps).toBe(2);
  });

  it('tells a repeated update from one overlapping what was applied', () => {
    const s = new PtsSequence(0);
    s.add(1, 1);
    s.add(1, 1);
    s.add(3, 3);
    expect(s.repeats).toBe(1);
    expect(s.overlaps).toBe(1);
    expect(s.pts).toBe(1);
  });

  it('ignores updates without a pts change', () => {
    const s = new PtsSequence(4);
    s.add(4, 0);
    expect(s.pts).toBe(4);
    expect([s.gaps, s.repeats, s.overlaps]).toEqual([0, 0, 0]);
  });
});

describe('DeliveryChecker', () => {
  it('counts each accepted message received once, with its latency', () => {
    const d = new DeliveryChecker();
    d.accept('a', 1, 100);
    d.accept('b', 2, 100);
    d.receive('a', 1, 130);
    d.receive('b', 2, 110);
    const r = d.report();
    expect(r).toMatchObject({ accepted: 2, received: 2, duplicates: 0, lost: 0, misdelivered: 0 });
    expect(r.latency).toMatchObject({ count: 2, p50: 10, max: 30 });
  });

  it('matches a reception that arrives before the send is answered', () => {
    const d = new DeliveryChecker();
    d.receive('a', 1, 105);
    expect(d.report().unannounced).toBe(1);
    d.accept('a', 1, 100);
    expect(d.report()).toMatchObject({ received: 1, unannounced: 0, lost: 0 });
  });

  it('counts duplicates, losses and messages that reached the wrong session', () => {
    const d = new DeliveryChecker();
    d.accept('a', 1, 0);
    d.accept('b', 2, 0);
    d.accept('c', 3, 0);
    expect(d.receive('a', 1, 1)).toBe(true);
    expect(d.receive('a', 1, 2)).toBe(false);
    d.receive('b', 3, 1);
    expect(d.report()).toMatchObject({ accepted: 3, received: 2, duplicates: 1, misdelivered: 1, lost: 1 });
  });
});
