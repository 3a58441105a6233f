// A runtime's raw memory, for the modules that allocate on its behalf (layers, functional
// ops). The allocator is a private method of Runtime; runtime.ts hands this module the one
// way in when it loads, so batchnorm.ts and functional.ts allocate without importing
// runtime.ts, which imports them (no value-import cycle).
import type { Runtime } from './runtime.js';
import { Workspace } from './ops.js';

/** @internal what runtime.ts installs: its private allocator, free and scratch */
export interface HeapAccess {
  allocate(rt: Runtime, bytes: number, argument: string): number;
  free(rt: Runtime, ptr: number, bytes: number): void;
  scratch(rt: Runtime, bytes: number, argument: string): number;
}

let access: HeapAccess | null = null;

/** @internal runtime.ts calls it once, as it loads; a second caller is refused */
export function installHeapAccess(heap: HeapAccess): void {
  if (access !== null) throw new TypeError('installHeapAccess: the runtime module installed it already');
  access = heap;
}

/** @internal `bytes` of `rt`'s memory, 16-byte aligned; a RangeError naming `argument` when they don't fit */
export function allocate(rt: Runtime, bytes: number, argument: string): number {
  return access!.allocate(rt, bytes, argument);
}

/** @internal returns what allocate() gave; `bytes` as allocated, for the accounting */
export function free(rt: Runtime, ptr: number, bytes: number): void {
  access!.free(rt, ptr, bytes);
}

// The runtime's reusable per-call scratch region, at least `bytes` long.
function scratch(rt: Runtime, bytes: number, argument: string): number {
  return access!.scratch(rt, bytes, argument);
}

/**
 * @internal an op's per-channel workspace in the runtime's scratch: valid until the next call.
 * Take it before the op's output, so that a failed scratch allocation strands no new tensor.
 */
export function scratchWorkspace(rt: Runtime, C: number): Workspace {
  return new Workspace(scratch(rt, Workspace.bytes(C), 'x'), C);
}

/** @internal `n` f64 of the runtime's memory at `ptr` (a workspace slot), as a view */
export function f64(rt: Runtime, ptr: number, n: number): Float64Array {
  return new Float64Array(rt.memory.buffer, ptr, n);
}
