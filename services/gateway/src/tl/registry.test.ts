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

  it('holds every layer from before 133 to at least 229, newest last', () => {
    expect(registry.layers[0]).toBeLessThanOrEqual(133);
    expect(registry.newestLayer).toBeGreaterThanOrEqual(229);
  });

  it('serves a client layer from its own schema, the proven part of a lower one, or not at all', () => {
    expect(registry.forClientLayer(229)).toBe(registry.forLayer(229));
    expect(registry.coverage(158)).toEqual({ kind: 'exact', layer: 158 });
    expect(registry.forClientLayer(10_000)).toBe(registry.forLayer(registry.newestLayer));
    expect(registry.coverage(10_000).kind).toBe('newer');
    expect(() => registry.forClientLayer(registry.layers[0]! - 1)).toThrow(UnsupportedLayerError);
    // every layer from the oldest to the newest is exact, proven between, or refused with reasons
    for (let l = registry.layers[0]!; l <= registry.newestLayer; l++) {
      const c = registry.coverage(l);
      expect(['exact', 'between', 'refused']).toContain(c.kind);
      if (c.kind === 'refused') {
        expect(c.unproven.length).toBeGreaterThan(0);
        expect(() => registry.forClientLayer(l)).toThrow(UnsupportedLayerError);
      }
    }
  });

  it('answers a between-layer client only with constructors whose id is the same at both ends', () => {
    const between = registry.layers.find((l) => registry.coverage(l + 1).kind === 'between');
    expect(between).toBeDefined();
    const layer = between! + 1;
    const c = registry.coverage(layer);
    if (c.kind !== 'between') throw new Error('unreachable');
    const codec = registry.forClientLayer(layer);
    expect(codec.layer).toBe(layer);
    const lower = registry.forLayer(c.lower);
    const upper = registry.forLayer(c.upper);
    for (const e of codec.schema.constructors) expect(upper.byName(e.name)?.id).toBe(e.id);
    const unproven = registry.unproven(layer);
    for (const name of unproven) expect(codec.byName(name)).toBeUndefined();
    // what changed is unproven (when anything did), and the client may still send either form
    const changed = lower.schema.constructors.find((e) => upper.byName(e.name)?.id !== e.id);
    if (changed) {
      expect(unproven).toContain(changed.name);
      expect(codec.byId(changed.id)?.name).toBe(changed.name);
      const newer = upper.byName(changed.name);
      if (newer) expect(codec.byId(newer.id)).toBe(newer);
    }
  });

  it('picks the layer that decodes a client: announced, else the newest below, else none', () => {
    expect(servingLayer([198, 214, 227], 214)).toBe(214);
    expect(servingLayer([198, 214, 227], 220)).toBe(214);
    expect(servingLayer([198, 214, 227], 300)).toBe(227);
    expect(servingLayer([198, 214, 227], 150)).toBeUndefined();
  });
});
