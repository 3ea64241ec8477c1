/**
 * Environment configuration, read once and checked as a whole.
 *
 * Each process declares the settings it needs as a spec (name → parser). `readEnv`
 * runs every parser, collects every problem, and throws one {@link ConfigError}
 * naming all of them, so an operator fixes a deployment in one round instead of
 * one restart per missing variable.
 */

/** A parser turns the raw value (undefined when unset) into a typed value or throws a message. */
export interface Setting<T> {
  readonly parse: (raw: string | undefined) => T;
  /** A one-line description, used in error messages. */
  readonly describe: string;
  /** Secrets are never echoed back in error messages. */
  readonly secret?: boolean;
}

/** Thrown when one or more settings are missing or malformed; `problems` lists them all. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'ConfigError';
  }
}

class SettingProblem extends Error {}

function fail(message: string): never {
  throw new SettingProblem(message);
}

/** A required or defaulted string. */
export function str(opts: { default?: string; describe: string; secret?: boolean }): Setting<string> {
  return {
    describe: opts.describe,
    secret: opts.secret ?? false,
    parse: (raw) => {
      const v = raw?.trim();
      if (v) return v;
      if (opts.default !== undefined) return opts.default;
      return fail('is required');
    },
  };
}

/** An optional string: undefined when unset or empty. */
export function optionalStr(opts: { describe: string; secret?: boolean }): Setting<string | undefined> {
  return { describe: opts.describe, secret: opts.secret ?? false, parse: (raw) => raw?.trim() || undefined };
}

/** An integer within [min, max]. */
export function int(opts: {
  default?: number;
  min?: number;
  max?: number;
  describe: string;
}): Setting<number> {
  return {
    describe: opts.describe,
    parse: (raw) => {
      const v = raw?.trim();
      if (!v) {
        if (opts.default !== undefined) return opts.default;
        return fail('is required');
      }
      if (!/^-?\d+$/.test(v)) return fail(`must be an integer, got "${v}"`);
      const n = Number(v);
      if (opts.min !== undefined && n < opts.min) return fail(`must be >= ${opts.min}, got ${n}`);
      if (opts.max !== undefined && n > opts.max) return fail(`must be <= ${opts.max}, got ${n}`);
      return n;
    },
  };
}

/** A boolean: true/false/1/0/yes/no. */
export function bool(opts: { default: boolean; describe: string }): Setting<boolean> {
  return {
    describe: opts.describe,
    parse: (raw) => {
      const v = raw?.trim().toLowerCase();
      if (!v) return opts.default;
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      return fail(`must be true or false, got "${raw}"`);
    },
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(
  values: readonly T[],
  opts: { default?: T; describe: string },
): Setting<T> {
  return {
    describe: opts.describe,
    parse: (raw) => {
      const v = raw?.trim();
      if (!v) {
        if (opts.default !== undefined) return opts.default;
        return fail(`is required (one of ${values.join(', ')})`);
      }
      if ((values as readonly string[]).includes(v)) return v as T;
      return fail(`must be one of ${values.join(', ')}, got "${v}"`);
    },
  };
}

/** A `host:port` address. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port` (IPv6 as `[::1]:port`); throws a readable message. */
export function parseHostPort(value: string): HostPort {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value.trim());
  if (!m) throw new SettingProblem(`"${value}" is not host:port`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new SettingProblem(`port ${port} out of range in "${value}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** A comma-separated list of `host:port`. */
export function hostPorts(opts: { default?: string; describe: string }): Setting<HostPort[]> {
  return {
    describe: opts.describe,
    parse: (raw) => {
      const v = raw?.trim() || opts.default;
      if (!v) return fail('is required (host:port[,host:port...])');
      return v.split(',').map((s) => parseHostPort(s));
    },
  };
}

/** An optional single `host:port`. */
export function optionalHostPort(opts: { describe: string }): Setting<HostPort | undefined> {
  return { describe: opts.describe, parse: (raw) => (raw?.trim() ? parseHostPort(raw) : undefined) };
}

/** An http(s) URL. */
export function url(opts: { default?: string; describe: string; optional?: boolean }): Setting<string> {
  return {
    describe: opts.describe,
    parse: (raw) => {
      const v = raw?.trim() || opts.default;
      if (!v) return opts.optional ? '' : fail('is required');
      try {
        new URL(v);
      } catch {
        return fail(`"${v}" is not a URL`);
      }
      return v;
    },
  };
}

/** A JSON value validated by `check` (which throws a message on a bad shape). */
export function json<T>(opts: { default?: T; describe: string; check: (v: unknown) => T }): Setting<T> {
  return {
    describe: opts.describe,
    parse: (raw) => {
      const v = raw?.trim();
      if (!v) {
        if (opts.default !== undefined) return opts.default;
        return fail('is required');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        return fail('is not valid JSON');
      }
      return opts.check(parsed);
    },
  };
}

export type SpecOf<T> = { [K in keyof T]: Setting<T[K]> };

/**
 * Reads every setting in `spec` from `env`, returning the typed values or throwing one
 * ConfigError that lists every problem. Keys of `spec` are the variable names.
 */
export function readEnv<T>(spec: SpecOf<T>, env: NodeJS.ProcessEnv = process.env): T {
  const out: Partial<T> = {};
  const problems: string[] = [];
  for (const name of Object.keys(spec) as (keyof T & string)[]) {
    const setting = spec[name];
    try {
      out[name] = setting.parse(env[name]);
    } catch (err) {
      const detail = err instanceof SettingProblem || err instanceof Error ? err.message : String(err);
      problems.push(`${name} ${detail} (${setting.describe})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as T;
}

/** Lets a composite check report a nested problem through readEnv. */
export function settingProblem(message: string): never {
  return fail(message);
}
