import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedLayerError } from './errors';
import { findGeneratedDir, loadTlRegistry, servingLayer } from './registry';

describe('TL registry', () => {
  const registry = loadTlRegistry();

  it('lists the generated layers ascending, the newest, and the service schema', () => {
    expect(registry.layers).toEqual([...registry.layers].sort((a, b) => a - b));
    expect(registry.layers).toEqual(expect.arrayContaining([198, 214, 227]));
    expect(registry.newestLayer).toBe(registry.layers[registry.layers.length - 1]);
    expect(registry.mtproto.layer).toBe(0);
    expect(registry.mtproto.isMethod('req_pq_multi')).toBe(true);
    expect(registry.mtproto.methodResultType('ping')).toBe('Pong');
  });

  it('builds each layer codec once and refuses unknown layers with a typed error', () => {
    expect(registry.forLayer(214)).toBe(registry.forLayer(214));
    expect(registry.forLayer(214).layer).toBe(214);
    expect(() => registry.forLayer(1)).toThrow(UnsupportedLayerError);
    try {
      registry.forLayer(1);
    } catch (e) {
      expect(e).toMatchObject({ layer: 1, served: registry.layers });
    }
  });

  it('finds generated/tl beside the nearest package.json, or says how to make it', () => {
    expect(findGeneratedDir()).toMatch(/generated[/\\]tl$/);
    const empty = mkdtempSync(join(tmpdir(), 'tl-'));
    writeFileSync(join(empty, 'package.json'), '{}');
    expect(() => findGeneratedDir(empty)).toThrow(/npm run tl:gen/);
  });

  it('picks the layer that decodes a client: announced, else the newest below, else none', () => {
    expect(servingLayer([198, 214, 227], 214)).toBe(214);
    expect(servingLayer([198, 214, 227], 220)).toBe(214);
    expect(servingLayer([198, 214, 227], 300)).toBe(227);
    expect(servingLayer([198, 214, 227], 150)).toBeUndefined();
  });
});
