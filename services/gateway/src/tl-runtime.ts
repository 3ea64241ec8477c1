/**
 * The TL runtime the MTProto engine and the handlers use, over the schema registry: the service
 * schema for MTProto's own messages, and per-layer API codecs with downgrades for answers. A
 * client's layer is served by its own schema when held, else by the part of the nearest lower
 * held schema that is proven in its layer (tl/coverage.ts, registry.forClientLayer); a layer
 * below every held one is refused (CONNECTION_LAYER_INVALID, by the engine).
 */
import type { TlRuntime } from './mtproto/tl-types';
import { encodeForLayer, encodeResultForLayer } from './tl/downgrade';
import { loadTlRegistry, type TlRegistry } from './tl/registry';

export function loadTlRuntime(
  registry: TlRegistry = loadTlRegistry(),
): TlRuntime & { layers: readonly number[] } {
  const mt = registry.mtproto;
  const codec = (layer: number) => registry.forClientLayer(layer);
  return {
    layers: registry.layers,
    newestLayer: registry.newestLayer,
    serves: (layer) => runtimeServes(registry, layer),
    isService: (id) => mt.hasId(id),
    decodeService: (body) => mt.decode(body),
    encodeService: (obj) => mt.encode(obj),
    decodeApi: (layer, body) => codec(layer).decode(body),
    // Typed by the method's result type in the client's layer (Vector<User>, Bool, Config, …).
    encodeApi: (layer, obj, method) => encodeResultForLayer(method, obj, codec(layer), registry),
    encodeObject: (layer, obj) => encodeForLayer(obj, codec(layer), registry),
    // A layer older than every served one is answered like the newest (callers only ask for
    // served layers: the engine refuses others with CONNECTION_LAYER_INVALID).
    resultType: (layer, method) =>
      (runtimeServes(registry, layer)
        ? codec(layer)
        : registry.forLayer(registry.newestLayer)
      ).methodResultType(method),
  };
}

/** Not below every held layer, and not a between-layer refused at build time (tl/coverage.ts). */
function runtimeServes(registry: TlRegistry, layer: number): boolean {
  const kind = registry.coverage(layer).kind;
  return kind !== 'unserved' && kind !== 'refused';
}
