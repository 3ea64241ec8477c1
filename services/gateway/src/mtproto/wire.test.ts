import { buildRpcResult, ID } from './wire';

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
});
