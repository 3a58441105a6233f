// The facade's view of the kernel exports (src/wasm.ts Kernels) against the declarations
// asc writes for the module it built (build/simd.d.ts, from `bindings: raw` in
// asconfig.json): `npm run typecheck` fails when a signature on either side changes alone.
import type { instantiate } from '../build/simd.js';
import type { Kernels } from '../src/wasm.js';

type Emitted = Awaited<ReturnType<typeof instantiate>>;
type Functions<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mismatched<A, B> = { [K in keyof A & keyof B]: Same<A[K], B[K]> extends true ? never : K }[keyof A & keyof B];

// Every function on both sides, with the same parameters and result; a failure names them.
export const sameNames: Same<keyof Functions<Kernels>, keyof Functions<Emitted>> = true;
export const noMismatch: [Mismatched<Functions<Kernels>, Functions<Emitted>>] extends [never] ? true : Mismatched<Functions<Kernels>, Functions<Emitted>> = true;
