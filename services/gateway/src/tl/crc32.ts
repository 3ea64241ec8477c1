/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): TL's combinator ids are the CRC32 of a
 * combinator's canonical text, and the full transport closes every frame with one.
 *
 * zlib's native crc32 (Node ≥ 20.15, package.json `engines`) is about 14× the table-driven loop in
 * JavaScript this replaced (0.57 against 7.8 ms per MiB), which mattered for the transport: every
 * byte of a file download passes through it (docs/benchmarks.md, "Media").
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * The CRC32 of `data` as an unsigned 32-bit number; with `previous` (the CRC32 of the bytes before
 * it), the CRC32 of those bytes and `data` together, without joining them.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous) >>> 0;
}
