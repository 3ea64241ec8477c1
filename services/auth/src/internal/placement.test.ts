import { Placement, parsePlacement } from './placement';

describe('placement by client address', () => {
  const p = new Placement(parsePlacement('10.3.0.0/16=3, 127.0.0.0/8=1, 2001:db8::/32=2'));

  it('maps addresses to DCs, first rule first', () => {
    expect(p.dcFor('10.3.4.5')).toBe(3);
    expect(p.dcFor('127.0.0.9')).toBe(1);
    expect(p.dcFor('2001:db8::1')).toBe(2);
    expect(p.dcFor('192.168.1.1')).toBeUndefined();
    expect(p.dcFor('not-an-ip')).toBeUndefined();
  });

  it('rejects malformed rules', () => {
    expect(() => parsePlacement('10.0.0.0/99=1')).toThrow(/prefix/);
    expect(() => parsePlacement('nonsense')).toThrow(/cidr=dc/);
  });
});
