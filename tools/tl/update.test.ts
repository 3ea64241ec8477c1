import { API_SOURCES } from './generate';
import { adoption, formatOf, installedCandidates, layerOfVersion } from './update';

describe('tl:update', () => {
  it('reads the layer teleproto and @mtcute/tl spell in their versions', () => {
    expect(layerOfVersion('teleproto', '1.229.0')).toBe(229);
    expect(layerOfVersion('teleproto', '214.1.7')).toBe(214);
    expect(layerOfVersion('@mtcute/tl', '218.0.1')).toBe(218);
    expect(layerOfVersion('telegram', '2.26.22')).toBeUndefined();
    expect(formatOf('teleproto', '1.230.0')).toBe('teleproto');
    expect(formatOf('teleproto', '214.1.7')).toBe('gramjs');
    expect(formatOf('@mtcute/core', '0.31.0')).toBe('mtcute');
  });

  it('says the install command and the one API_SOURCES line that adopt a layer', () => {
    const a = adoption({
      layer: 230,
      pkg: 'teleproto',
      version: '1.230.0',
      format: 'teleproto',
      where: 'published',
    });
    expect(a.install).toBe('npm install --save-dev --save-exact teleproto-layer-230@npm:teleproto@1.230.0');
    expect(a.line).toBe("{ pkg: 'teleproto-layer-230', format: 'teleproto' },");
    expect(
      adoption({ layer: 224, pkg: '@mtcute/tl', version: '224.0.0', format: 'mtcute', where: 'published' })
        .line,
    ).toBe("{ pkg: 'mtcute-tl-layer-224', format: 'mtcute' },");
    // the names it suggests are the ones API_SOURCES already uses
    for (const s of API_SOURCES.filter((x) => /-layer-\d+$/.test(x.pkg)))
      expect(s.pkg).toMatch(/^(telegram|teleproto|mtcute-tl|mtcute-core)-layer-\d+$/);
  });

  it('finds no installed client package whose schema is not held (install + line go together)', () => {
    expect(installedCandidates()).toEqual([]);
  });
});
