// The one allocator of a runtime: AssemblyScript's TLSF heap, whose blocks are 16-byte
// aligned (AL_SIZE), so every tensor can be read with aligned v128 loads.
// A request the heap cannot grow to fit traps; the heap is left consistent, so the facade
// turns the trap into a RangeError and the runtime stays usable.
import { BLOCK_MAXSIZE } from "rt/common";

// Blocks of at least this many bytes are staggered: a request whose size lies within 1 KiB
// of a multiple of 4 KiB is padded to 2 KiB past one, so that the block after it starts
// about 2 KiB further round a 4 KiB page than this one. Tensors allocated one after the
// other (x, y, dy, dx) would otherwise sit 16 bytes apart modulo 4 KiB whenever their size
// is a multiple of it ([256,1024], any row of 1,024 channels), and a pass writing y while
// reading x would store to the low 12 address bits its next loads read: the CPU holds such
// a load back until the store has gone (4K aliasing; bench/stagger.mjs times each op both
// ways). From 64 KiB on, the pad (under 3 KiB) costs at most 5% of a block.
export const STAGGER_FROM: usize = 65536;

const PAGE_MASK: usize = 4095;
// The offset round the page that a staggered request is padded to, and how far from a
// page boundary a size may lie without a pad.
const STAGGER: usize = 2048;
const NEAR: usize = 1024;

export function alloc(bytes: usize): usize {
  return heap.alloc(staggered(bytes));
}

// The size to request for `bytes`: itself, or padded as STAGGER_FROM says (never past the
// largest block, so that padding alone cannot make a request fail).
function staggered(bytes: usize): usize {
  const offset = bytes & PAGE_MASK;
  if (bytes < STAGGER_FROM || (offset >= NEAR && offset <= PAGE_MASK + 1 - NEAR)) return bytes;
  const padded = bytes + ((STAGGER - offset) & PAGE_MASK);
  return padded <= BLOCK_MAXSIZE ? padded : bytes;
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

// memory.copy of the same bytes is the physical limit the benchmarks compare against.
export function copy(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}

export const SIMD: bool = ASC_FEATURE_SIMD;
