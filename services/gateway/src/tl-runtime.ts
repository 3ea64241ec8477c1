/**
 * The TL runtime the MTProto engine uses, over the schema registry: the service schema for
 * MTProto's own messages, and per-layer API codecs with downgrades for answers.
 */
import type { TlRuntime } from './mtproto/engine';
import { encodeForLayer, encodeResultForLayer } from './tl/downgrade';
import { loadTlRegistry, servingLayer, type TlRegistry } from './tl/registry';

export function loadTlRuntime(
  registry: TlRegistry = loadTlRegistry(),
): TlRuntime & { layers: readonly number[] } {
  const mt = registry.mtproto;
  return {
    layers: registry.layers,
    newestLayer: registry.newestLayer,
    serves: (layer) => servingLayer(registry.layers, layer) !== undefined,
    isService: (id) => mt.hasId(id),
    decodeService: (body) => mt.decode(body),
    encodeService: (obj) => mt.encode(obj),
    decodeApi: (layer, body) => registry.forLayer(servingLayer(registry.layers, layer)!).decode(body),
    // Typed by the method's result type in the client's layer (Vector<User>, Bool, Config, …).
    encodeApi: (layer, obj, method) =>
      encodeResultForLayer(method, obj, registry.forLayer(servingLayer(registry.layers, layer)!), registry),
    encodeObject: (layer, obj) =>
      encodeForLayer(obj, registry.forLayer(servingLayer(registry.layers, layer)!), registry),
  };
}
