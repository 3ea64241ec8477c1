import { randomBytes } from 'node:crypto';
import { buildRpcResult, ID, tlBytes } from './wire';

describe('rpc_result packing', () => {
  const body = (constructor: number) => {
    const b = Buffer.alloc(64 * 1024); // zeros: as compressible as it gets
    b.writeUInt32LE(constructor, 0);
    return b;
  };
  const innerOf = (r: Buffer) => r.readUInt32LE(12);

  it('gzips a large result when that saves bytes', () => {
    const r = buildRpcResult(1n, body(0x1cb5c415)); // a vector
    expect(innerOf(r)).toBe(ID.gzip_packed);
    expect(r.length).toBeLessThan(1024);
  });

  it('never tries for upload.file: file bytes do not shrink, and trying blocks the event loop', () => {
    const r = buildRpcResult(1n, body(0x096a18d5));
    expect(innerOf(r)).toBe(0x096a18d5);
    expect(r.length).toBe(12 + 64 * 1024);
  });

  it.each([0, 100, 253, 254, 1000, 1024 * 1024 - 1])(
    'writes a result kept apart from its %i bytes as the whole result would be',
    (n) => {
      const head = randomBytes(12);
      head.writeUInt32LE(0x096a18d5, 0);
      const bytes = randomBytes(n);
      const whole = buildRpcResult(7n, Buffer.concat([head, tlBytes(bytes)]));
      expect(buildRpcResult(7n, { head, bytes }).equals(whole)).toBe(true);
    },
  );
});
