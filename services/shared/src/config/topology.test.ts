import { parseTopology, dcOf } from './topology';

const dc = (id: number) => ({
  id,
  gateway: { host: `127.0.0.${id}`, tcpPort: 443, wsPort: 8443 },
  services: {
    gateway: `127.0.0.${id}:50050`,
    auth: `127.0.0.${id}:50051`,
    messaging: `127.0.0.${id}:50052`,
    channel: `127.0.0.${id}:50053`,
    media: `127.0.0.${id}:50054`,
  },
});

describe('topology', () => {
  it('parses a valid document', () => {
    const t = parseTopology({ testMode: true, dcs: [dc(1), dc(2)] });
    expect(t.testMode).toBe(true);
    expect(dcOf(t, 2).services.auth).toEqual({ host: '127.0.0.2', port: 50051 });
    expect(() => dcOf(t, 3)).toThrow(/DC 3/);
  });

  it('lists every problem', () => {
    const bad = dc(1) as Record<string, unknown>;
    bad.services = { auth: 'nope' };
    expect(() => parseTopology({ dcs: [bad, dc(1)] })).toThrow(
      /services\.gateway.*services\.auth.*dc id 1 appears twice/s,
    );
  });

  it('rejects an empty topology', () => {
    expect(() => parseTopology({ dcs: [] })).toThrow(/non-empty/);
  });
});
