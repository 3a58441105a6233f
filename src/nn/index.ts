/**
 * A minimal trainer around the package's BatchNorm, enough to train the papers' networks (not a framework):
 * layers with hand-written backward passes, a loss, SGD and a seeded generator. Every operation is one wasm
 * call on the runtime's memory.
 *
 * @packageDocumentation
 * @module batchnorm-wasm/nn
 */
export { Rng } from './rng.js';
export type { Layer, LayerState, LayerStateInput, Parameter } from './layer.js';
export { Linear, type LinearInit, type LinearOptions } from './linear.js';
export { Sigmoid, ReLU } from './activation.js';
export { BatchNormLayer } from './batchnorm.js';
export { UnitNoise, type UnitNoiseOptions } from './noise.js';
export { Dropout, type DropoutOptions } from './dropout.js';
export { Sequential, type NamedParameter } from './sequential.js';
export { SoftmaxCrossEntropy, crossEntropy, correctCount } from './loss.js';
export { SGD, type SGDOptions } from './sgd.js';
export { addScaled, dot, squaredDistance } from './vector.js';
