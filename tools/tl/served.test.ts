import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findGeneratedDir, loadTlRegistry } from '../../services/gateway/src/tl/registry';
import type { TlIndex } from '../../services/gateway/src/tl/schema';
import { clientLayers, emittedConstructors, literalNames, ranges, refusedLayers } from './served';

const registry = loadTlRegistry();
const schemas = registry.layers.map((l) => registry.forLayer(l).schema);
const newest = registry.forLayer(registry.newestLayer);
const emitted = emittedConstructors(newest);
const report = clientLayers(schemas, emitted);

describe('what each client layer is answered with (the build-time check of tl:gen)', () => {
  it('reads the constructors the gateway writes from its source', () => {
    expect(emitted).toEqual(
      expect.arrayContaining(['user', 'message', 'config', 'updateShortMessage', 'messageMediaUnsupported']),
    );
    // only constructors of the newest layer count (not service-schema names such as msgs_ack)
    expect(literalNames().length).toBeGreaterThanOrEqual(emitted.length);
    for (const n of emitted) expect(newest.isMethod(n)).toBe(false);
  });

  it('covers every client layer from the oldest held to the newest held', () => {
    expect(report.map((l) => l.layer)).toEqual(
      Array.from(
        { length: registry.newestLayer - registry.layers[0]! + 1 },
        (_, i) => registry.layers[0]! + i,
      ),
    );
  });

  // The check itself: no served layer lacks a constructor the gateway writes.
  it.each(report.filter((l) => l.kind === 'exact').map((l) => [l.layer, l] as const))(
    'held layer %i expresses every constructor the gateway writes',
    (_layer, l) => {
      expect(l.missing).toEqual([]);
    },
  );

  it('serves a between-layer only when it expresses every one of them too, else refuses it', () => {
    const index = JSON.parse(readFileSync(join(findGeneratedDir(), 'index.json'), 'utf8')) as TlIndex;
    expect(index.refused ?? {}).toEqual(refusedLayers(report));
    for (const l of report.filter((r) => r.kind === 'between')) {
      const c = registry.coverage(l.layer);
      expect(c.kind).toBe(l.missing.length > 0 ? 'refused' : 'between');
      if (c.kind === 'between')
        for (const name of emitted) if (!l.typeAbsent.includes(name)) expect(l.missing).not.toContain(name);
    }
  });

  it('answers the layers of the issue with their own constructors', () => {
    // layer 229 (teleproto 1.229): user#b1b8cc83, not layer 227's user#31774388
    expect(registry.forClientLayer(229).byName('user')!.id).toBe(0xb1b8cc83);
    // layer 158 (GramJS 2.17): its own config, not layer 152's config#232566ac
    expect(registry.forClientLayer(158).byName('config')!.id).not.toBe(0x232566ac);
    expect(registry.forClientLayer(158).byName('config')!.id).toBe(
      registry.forLayer(158).byName('config')!.id,
    );
  });

  it('prints ranges of layers', () => {
    expect(ranges([131, 132, 133, 135, 137, 138])).toBe('131–133, 135, 137–138');
    expect(ranges([])).toBe('');
  });
});
