/** Every fuzz target, in the order `npm run fuzz` runs them. */
import type { FuzzTarget } from '../types';
import { convertTargets } from './convert';
import { engineTarget } from './engine';
import { envelopeTarget, wireTarget } from './envelope';
import { tlLayerTargets, tlTargets } from './tl';
import { transportTargets } from './transport';

export function allTargets(): FuzzTarget[] {
  return [
    ...transportTargets,
    envelopeTarget(),
    wireTarget(),
    engineTarget(),
    ...tlTargets(),
    ...convertTargets,
  ];
}

/** The default targets, plus one per served layer (tl-<layer>) for a closer look at one. */
export function findTargets(names: readonly string[]): FuzzTarget[] {
  if (names.length === 0) return allTargets();
  const all = [...allTargets(), ...tlLayerTargets()];
  return names.map((n) => {
    const t = all.find((x) => x.name === n);
    if (!t) throw new Error(`no fuzz target ${n} (targets: ${all.map((x) => x.name).join(', ')})`);
    return t;
  });
}
