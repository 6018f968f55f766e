/**
 * The safetensors file format (https://github.com/huggingface/safetensors), read and written
 * without TensorFlow.js so checkpoints can be handled as plain bytes.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"__metadata__": {...}, name: {dtype, shape, data_offsets: [begin, end]}, ...}`), then the
 * tensor bytes. Writing follows the reference implementation so files diff and hash stably:
 * `__metadata__` first, tensors sorted by name with their data in the same order, and the
 * header padded with spaces so the data starts on an 8-byte boundary.
 * Reading accepts F32, F16, BF16 and F64 and converts them to float32.
 */

export type SafetensorsDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL"

/** A float32 tensor as stored or loaded. */
export interface F32Tensor {
  readonly shape: ReadonlyArray<number>
  readonly data: Float32Array
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, F32Tensor>
  /** `__metadata__`: string → string, as the format requires. */
  readonly metadata: Readonly<Record<string, string>>
  /** Names of tensors whose dtype is not a float type; they are skipped, not converted. */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly dtype: string }>
}

interface HeaderEntry {
  readonly dtype: string
  readonly shape: ReadonlyArray<number>
  readonly data_offsets: readonly [number, number]
}

const bytesPerElement: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1
}

/** The header must stay small: the reference reader rejects headers over 100 MB. */
const maxHeaderBytes = 100_000_000

export const readSafetensors = (bytes: Uint8Array): SafetensorsFile => {
  if (bytes.byteLength < 8) throw new Error("safetensors: file shorter than its 8-byte header length")
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = Number(view.getBigUint64(0, true))
  if (headerLength > maxHeaderBytes || 8 + headerLength > bytes.byteLength) {
    throw new Error(`safetensors: header length ${headerLength} does not fit a ${bytes.byteLength}-byte file`)
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>
  const dataStart = 8 + headerLength
  const tensors = new Map<string, F32Tensor>()
  const skipped: Array<{ name: string; dtype: string }> = []
  let metadata: Record<string, string> = {}
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (raw ?? {}) as Record<string, string>
      continue
    }
    const entry = raw as HeaderEntry
    const size = entry.shape.reduce((a, b) => a * b, 1)
    const width = bytesPerElement[entry.dtype]
    if (width === undefined) throw new Error(`safetensors: tensor ${name} has unknown dtype ${entry.dtype}`)
    const [begin, end] = entry.data_offsets
    if (end - begin !== size * width || dataStart + end > bytes.byteLength) {
      throw new Error(`safetensors: tensor ${name} has offsets [${begin}, ${end}] that do not match shape ${JSON.stringify(entry.shape)} (${entry.dtype})`)
    }
    const data = toFloat32(entry.dtype, bytes, dataStart + begin, size)
    if (data === undefined) skipped.push({ name, dtype: entry.dtype })
    else tensors.set(name, { shape: [...entry.shape], data })
  }
  return { tensors, metadata, skipped }
}

const toFloat32 = (dtype: string, bytes: Uint8Array, offset: number, size: number): Float32Array | undefined => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size * (bytesPerElement[dtype] ?? 1))
  const out = new Float32Array(size)
  switch (dtype) {
    case "F32":
      // Copy through bytes: the offset need not be 4-aligned within the underlying buffer.
      new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + size * 4))
      if (!littleEndianHost) for (let i = 0; i < size; i++) out[i] = view.getFloat32(i * 4, true)
      return out
    case "F64":
      for (let i = 0; i < size; i++) out[i] = view.getFloat64(i * 8, true)
      return out
    case "F16":
      for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(i * 2, true))
      return out
    case "BF16": {
      // bfloat16 is the top half of a float32.
      const u32 = new Uint32Array(out.buffer)
      for (let i = 0; i < size; i++) u32[i] = view.getUint16(i * 2, true) << 16
      return out
    }
    default:
      return undefined
  }
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

const halfToFloat = (h: number): number => {
  const sign = h & 0x8000 ? -1 : 1
  const exponent = (h >> 10) & 0x1f
  const mantissa = h & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** Serialise float32 tensors (and string metadata) to safetensors bytes. */
export const writeSafetensors = (
  tensors: ReadonlyMap<string, F32Tensor> | Readonly<Record<string, F32Tensor>>,
  metadata?: Readonly<Record<string, string>>
): Uint8Array => {
  const entries: Array<[string, F32Tensor]> =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, F32Tensor>).entries()] : Object.entries(tensors as Readonly<Record<string, F32Tensor>>)
  // Byte-wise order, as Rust's BTreeMap in the reference writer; localeCompare would differ.
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const header: Record<string, unknown> = {}
  if (metadata !== undefined && Object.keys(metadata).length > 0) header["__metadata__"] = metadata
  let offset = 0
  for (const [name, tensor] of entries) {
    if (name === "__metadata__") throw new Error("safetensors: __metadata__ is not a tensor name")
    const size = tensor.shape.reduce((a, b) => a * b, 1)
    if (size !== tensor.data.length) {
      throw new Error(`safetensors: tensor ${name} has ${tensor.data.length} values for shape ${JSON.stringify(tensor.shape)}`)
    }
    header[name] = { dtype: "F32", shape: [...tensor.shape], data_offsets: [offset, offset + size * 4] }
    offset += size * 4
  }
  let json = new TextEncoder().encode(JSON.stringify(header))
  const padded = Math.ceil(json.byteLength / 8) * 8
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20)
    withSpaces.set(json)
    json = withSpaces
  }
  const out = new Uint8Array(8 + json.byteLength + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true)
  out.set(json, 8)
  let at = 8 + json.byteLength
  for (const [, tensor] of entries) {
    const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
    if (littleEndianHost) out.set(bytes, at)
    else {
      const view = new DataView(out.buffer, at, tensor.data.byteLength)
      tensor.data.forEach((v, i) => view.setFloat32(i * 4, v, true))
    }
    at += tensor.data.byteLength
  }
  return out
}
