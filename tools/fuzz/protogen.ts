/**
 * Random protobuf messages of Tern's contracts (proto/), as the gateway receives them over gRPC:
 * the schema comes from `buf build` (the pinned buf in node_modules, offline), values are drawn
 * field by field (edge values for every scalar type, unknown enum numbers, oneof cases, nested
 * messages, repeated fields packed or not, strings with invalid UTF-8), and the bytes are then
 * decoded by the generated ts-proto code, exactly as a gRPC answer is.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  createFileRegistry,
  fromBinary,
  ScalarType,
  type DescField,
  type DescMessage,
} from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { REPO_ROOT } from './corpus';
import type { Rng } from './rng';

let registry: ReturnType<typeof createFileRegistry> | undefined;

/** The descriptors of proto/ (buf build, once per thread). */
export function protoRegistry(): ReturnType<typeof createFileRegistry> {
  if (!registry) {
    const buf = join(REPO_ROOT, 'node_modules', '.bin', 'buf');
    const bytes = execFileSync(buf, ['build', '-o', '-#format=binpb'], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    });
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  }
  return registry;
}

export function messageDesc(typeName: string): DescMessage {
  const d = protoRegistry().getMessage(typeName);
  if (!d) throw new Error(`no message ${typeName} in proto/`);
  return d;
}

const INT32 = [0, 1, -1, 2, 127, 128, 0x7fffffff, -0x80000000, 1000, 86400, 1_700_000_000];
const UINT32 = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 1000];
const INT64 = [0n, 1n, -1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, (1n << 63n) - 1n, -(1n << 63n), 1n << 53n];
const UINT64 = [0n, 1n, 0xffffffffn, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];
const DOUBLE = [0, -0, 1, -1, 0.5, 1e300, -1e300, Number.NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, 5e-324];
const STRINGS = [
  '',
  'a',
  'Tern',
  'ünïcödé',
  '😀'.repeat(3),
  'x'.repeat(300),
  'local:sound',
  'none',
  'default',
];

function pickOr<T>(rng: Rng, edges: readonly T[], random: () => T): T {
  return rng.chance(0.5) ? rng.pick(edges) : random();
}

function writeScalar(w: BinaryWriter, rng: Rng, t: ScalarType): void {
  switch (t) {
    case ScalarType.DOUBLE:
      w.double(pickOr(rng, DOUBLE, () => (rng.float() - 0.5) * 10 ** rng.int(12)));
      return;
    case ScalarType.FLOAT:
      w.float(pickOr(rng, [0, 1, -1, 0.5, 3.4e38], () => (rng.float() - 0.5) * 1000));
      return;
    case ScalarType.INT32:
      w.int32(pickOr(rng, INT32, () => rng.u32() | 0));
      return;
    case ScalarType.SINT32:
      w.sint32(pickOr(rng, INT32, () => rng.u32() | 0));
      return;
    case ScalarType.SFIXED32:
      w.sfixed32(pickOr(rng, INT32, () => rng.u32() | 0));
      return;
    case ScalarType.UINT32:
      w.uint32(pickOr(rng, UINT32, () => rng.u32()));
      return;
    case ScalarType.FIXED32:
      w.fixed32(pickOr(rng, UINT32, () => rng.u32()));
      return;
    case ScalarType.INT64:
      w.int64(pickOr(rng, INT64, () => rng.bigint64()));
      return;
    case ScalarType.SINT64:
      w.sint64(pickOr(rng, INT64, () => rng.bigint64()));
      return;
    case ScalarType.SFIXED64:
      w.sfixed64(pickOr(rng, INT64, () => rng.bigint64()));
      return;
    case ScalarType.UINT64:
      w.uint64(pickOr(rng, UINT64, () => BigInt.asUintN(64, rng.bigint64())));
      return;
    case ScalarType.FIXED64:
      w.fixed64(pickOr(rng, UINT64, () => BigInt.asUintN(64, rng.bigint64())));
      return;
    case ScalarType.BOOL:
      w.bool(rng.bool());
      return;
    case ScalarType.STRING:
      // Now and then bytes that are not UTF-8 (the wire cannot tell string from bytes).
      if (rng.chance(0.1)) w.bytes(rng.bytes(rng.size(40)));
      else w.string(pickOr(rng, STRINGS, () => rng.bytes(rng.size(24)).toString('latin1')));
      return;
    case ScalarType.BYTES:
      w.bytes(rng.chance(0.2) ? new Uint8Array(0) : rng.bytes(rng.size(rng.chance(0.02) ? 70000 : 300)));
      return;
  }
}

function wireTypeOf(t: ScalarType): WireType {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    default:
      return WireType.Varint;
  }
}

function enumValue(rng: Rng, values: readonly { number: number }[]): number {
  return rng.chance(0.9) && values.length > 0 ? rng.pick(values).number : rng.range(-2, 1000);
}

function writeField(w: BinaryWriter, rng: Rng, f: DescField, depth: number): void {
  switch (f.fieldKind) {
    case 'scalar':
      writeScalar(w.tag(f.number, wireTypeOf(f.scalar)), rng, f.scalar);
      return;
    case 'enum':
      w.tag(f.number, WireType.Varint).int32(enumValue(rng, f.enum.values));
      return;
    case 'message':
      w.tag(f.number, WireType.LengthDelimited).bytes(randomMessage(f.message, rng, depth + 1));
      return;
    case 'list': {
      const n = rng.size(depth > 2 ? 2 : rng.chance(0.01) ? 200 : 6);
      if (f.listKind === 'message') {
        for (let i = 0; i < n; i++)
          w.tag(f.number, WireType.LengthDelimited).bytes(randomMessage(f.message, rng, depth + 1));
        return;
      }
      const scalar = f.listKind === 'scalar' ? f.scalar : ScalarType.INT32;
      const packable = wireTypeOf(scalar) !== WireType.LengthDelimited;
      const one = (x: BinaryWriter) =>
        f.listKind === 'enum' ? x.int32(enumValue(rng, f.enum.values)) : writeScalar(x, rng, scalar);
      if (packable && (f.packed ? rng.chance(0.9) : rng.chance(0.1))) {
        w.tag(f.number, WireType.LengthDelimited).fork();
        for (let i = 0; i < n; i++) one(w);
        w.join();
      } else
        for (let i = 0; i < n; i++)
          one(w.tag(f.number, f.listKind === 'enum' ? WireType.Varint : wireTypeOf(scalar)));
      return;
    }
    case 'map':
      return; // none in Tern's contracts
  }
}

/** The wire bytes of a random `desc` message. */
export function randomMessage(desc: DescMessage, rng: Rng, depth = 0): Uint8Array {
  const w = new BinaryWriter();
  const deep = depth >= 5;
  for (const oneof of desc.oneofs)
    if (!deep && rng.chance(0.85)) writeField(w, rng, rng.pick(oneof.fields), depth);
  for (const f of desc.fields) {
    if (f.oneof) continue;
    const isMessage = f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message');
    if (isMessage && deep) continue;
    if (rng.chance(isMessage ? 0.75 : 0.8)) writeField(w, rng, f, depth);
  }
  // Unknown fields: services newer than this gateway may send them.
  if (rng.chance(0.05)) w.tag(900 + rng.int(100), WireType.Varint).uint32(rng.u32());
  return w.finish();
}
