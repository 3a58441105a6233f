// The one allocator of a runtime: AssemblyScript's TLSF heap, whose blocks are 16-byte
// aligned (AL_SIZE), so every tensor can be read with aligned v128 loads.
// A request the heap cannot grow to fit traps; the heap is left consistent, so the facade
// turns the trap into a RangeError and the runtime stays usable.

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

// memory.copy of the same bytes is the physical limit the benchmarks compare against.
export function copy(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}

export const SIMD: bool = ASC_FEATURE_SIMD;
