/**
 * Where a NEW user is homed: the DC closest to the client's address, from a
 * configurable CIDR → DC map (TERN_AUTH_PLACEMENT, e.g. "10.1.0.0/16=1,2001:db8::/32=2").
 * Unmatched addresses stay in the DC that was asked.
 */
import { BlockList, isIP } from 'node:net';

export interface PlacementRule {
  cidr: string;
  dc: number;
}

/** Parses "cidr=dc,cidr=dc"; throws a readable message. */
export function parsePlacement(spec: string): PlacementRule[] {
  if (!spec.trim()) return [];
  return spec.split(',').map((part) => {
    const m = /^\s*([0-9a-fA-F.:]+)\/(\d{1,3})\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || !isIP(m[1]!)) throw new Error(`"${part}" is not cidr=dc`);
    const bits = Number(m[2]);
    if (bits > (isIP(m[1]!) === 4 ? 32 : 128)) throw new Error(`"${part}" has a bad prefix length`);
    return { cidr: `${m[1]}/${bits}`, dc: Number(m[3]) };
  });
}

/** Matches client addresses against the rules, first match wins. */
export class Placement {
  private readonly lists: Array<{ list: BlockList; dc: number }>;

  constructor(rules: PlacementRule[]) {
    this.lists = rules.map((r) => {
      const list = new BlockList();
      const [net, bits] = r.cidr.split('/');
      list.addSubnet(net!, Number(bits), isIP(net!) === 6 ? 'ipv6' : 'ipv4');
      return { list, dc: r.dc };
    });
  }

  /** The DC for `ip`, or undefined when no rule matches (or the address is unparsable). */
  dcFor(ip: string): number | undefined {
    const v = isIP(ip);
    if (v === 0) return undefined;
    const family = v === 6 ? 'ipv6' : 'ipv4';
    return this.lists.find((l) => l.list.check(ip, family))?.dc;
  }
}
