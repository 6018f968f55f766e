import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { readSafetensors, writeSafetensors, type F32Tensor } from "../../../src/ml/model/Safetensors.js"

const fakeGpt2 = new URL("../../../../shared/data/models/fake-gpt2/model.safetensors", import.meta.url)

const tensor = (shape: Array<number>, f: (i: number) => number): F32Tensor => {
  const size = shape.reduce((a, b) => a * b, 1)
  return { shape, data: Float32Array.from({ length: size }, (_, i) => f(i)) }
}

describe("safetensors", () => {
  it("round-trips to bit-identical bytes, sorted, 8-byte aligned, metadata first", () => {
    const tensors = new Map([
      ["z.weight", tensor([3, 2], (i) => Math.sin(i) * 1e-3)],
      ["a.bias", tensor([5], (i) => i - 2.5)],
      ["m.scalar", tensor([], () => Math.PI)]
    ])
    const bytes = writeSafetensors(tensors, { format: "pt" })
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect(headerLength % 8).toBe(0)
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))
    expect(Object.keys(JSON.parse(header))).toEqual(["__metadata__", "a.bias", "m.scalar", "z.weight"])
    const read = readSafetensors(bytes)
    expect(read.metadata).toEqual({ format: "pt" })
    expect(read.tensors.get("z.weight")!.shape).toEqual([3, 2])
    expect(read.tensors.get("m.scalar")!.shape).toEqual([])
    for (const [name, t] of tensors) expect(read.tensors.get(name)!.data).toEqual(t.data)
    expect(writeSafetensors(read.tensors, read.metadata)).toEqual(bytes)
  })

  it("re-writes a real Hugging Face file byte for byte", () => {
    const original = new Uint8Array(readFileSync(fakeGpt2))
    const file = readSafetensors(original)
    expect(file.tensors.size).toBe(16)
    expect(Buffer.from(writeSafetensors(file.tensors, file.metadata)).equals(Buffer.from(original))).toBe(true)
  })

  it("reads F16, BF16 and F64 as float32", () => {
    const values = [1, -2, 0.5, 65504]
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff])
    const bf16 = new Uint16Array(values.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16))
    const f64 = new Float64Array(values)
    const header = JSON.stringify({
      a: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
      b: { dtype: "BF16", shape: [2, 2], data_offsets: [8, 16] },
      c: { dtype: "F64", shape: [4], data_offsets: [16, 48] },
      d: { dtype: "I64", shape: [1], data_offsets: [48, 56] }
    })
    const headerBytes = new TextEncoder().encode(header)
    const bytes = new Uint8Array(8 + headerBytes.length + 56)
    new DataView(bytes.buffer).setBigUint64(0, BigInt(headerBytes.length), true)
    bytes.set(headerBytes, 8)
    const data = 8 + headerBytes.length
    bytes.set(new Uint8Array(f16.buffer), data)
    bytes.set(new Uint8Array(bf16.buffer), data + 8)
    bytes.set(new Uint8Array(f64.buffer), data + 16)
    const file = readSafetensors(bytes)
    expect(Array.from(file.tensors.get("a")!.data)).toEqual(values)
    // bfloat16 keeps the top 16 bits: 65504 (0x477fe000) truncates to 0x477f0000.
    expect(Array.from(file.tensors.get("b")!.data)).toEqual([1, -2, 0.5, 65280])
    expect(Array.from(file.tensors.get("c")!.data)).toEqual(values)
    expect(file.skipped).toEqual([{ name: "d", dtype: "I64" }])
  })

  it("rejects offsets that do not match the shape", () => {
    const bytes = writeSafetensors(new Map([["x", tensor([2], (i) => i)]]))
    const broken = Uint8Array.from(bytes)
    const text = new TextDecoder().decode(broken)
    const patched = new TextEncoder().encode(text.replace('"shape":[2]', '"shape":[3]'))
    expect(() => readSafetensors(patched)).toThrow(/offsets/)
  })
})
