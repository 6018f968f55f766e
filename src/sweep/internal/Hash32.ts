/**
 * FNV-1a, 32-bit: a stable string hash for seeding generators and assigning shards.
 * Not for content addressing (see CanonicalJson for that).
 */
export const fnv1a32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
