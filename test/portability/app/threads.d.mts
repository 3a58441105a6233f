import type { Runtime } from '../../../src/index.js';

export interface ThreadedResult { threads: number; planar: string; interleaved: string }

export function computeThreaded(rt: Runtime): ThreadedResult;
