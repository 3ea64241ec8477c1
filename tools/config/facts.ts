/**
 * What a setting spec says about one variable: required or not, its default, whether it is a
 * secret, its meaning.
 *
 * The spec builders of services/shared/src/config/env.ts keep only `parse`, `describe` and (for
 * strings) `secret`, and services build their own `Setting` objects too (placement, CIDR lists,
 * key files), so the facts are read from behaviour, which every setting has: an unset variable is
 * `parse(undefined)`. It throws when the setting is required; otherwise its result is the default
 * (`undefined`, `''` and `[]` mean "none": the feature is off or the process decides at run time).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Setting } from '../../services/shared/src/config/env';

/** Any setting, whatever the type it parses to. */
export type AnySetting = Setting<unknown>;
/** A spec: variable name → setting. */
export type AnySpec = Readonly<Record<string, AnySetting>>;

export interface SettingFacts {
  name: string;
  describe: string;
  secret: boolean;
  /** Unset, the process exits with status 78. */
  required: boolean;
  /** The parsed value an unset variable takes, when there is one. */
  default?: unknown;
  /** `default` as it would be written in the environment. */
  defaultText?: string;
}

function isNone(v: unknown): boolean {
  return v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Writes a parsed default back the way the environment spells it. */
function envText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

export function factsOf(name: string, setting: AnySetting): SettingFacts {
  const base = { name, describe: setting.describe, secret: setting.secret === true };
  let unset: unknown;
  try {
    unset = setting.parse(undefined);
  } catch {
    return { ...base, required: true };
  }
  if (isNone(unset)) return { ...base, required: false };
  return { ...base, required: false, default: unset, defaultText: envText(unset) };
}

/** The problem with `raw` as a value of `setting`, or undefined when it parses. */
export function parseProblem(setting: AnySetting, raw: string): string | undefined {
  try {
    setting.parse(raw);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Whether `raw` means the same as leaving the variable unset (it parses to the default). False
 * for a setting without a default and for a value that does not parse.
 */
export function isDefaultValue(setting: AnySetting, raw: string): boolean {
  const facts = factsOf('', setting);
  if (facts.default === undefined) return false;
  try {
    return isDeepStrictEqual(setting.parse(raw), facts.default);
  } catch {
    return false;
  }
}

/**
 * Settings whose value names a file the parser reads (keys, credentials): their values are paths
 * inside a container or on another machine, so checks do not parse them here.
 */
export function readsAFile(name: string): boolean {
  return name.endsWith('_FILE');
}
