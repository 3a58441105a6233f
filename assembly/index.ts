// The module's exports: one file per kernel family.
export { alloc, free, copy, SIMD } from "./heap";
export { f32_bn_stats_planar, f32_bn_stats_interleaved } from "./stats";
export {
  f32_bn_forward_train_planar, f32_bn_forward_train_interleaved,
  f32_bn_forward_eval_planar, f32_bn_forward_eval_interleaved,
  f32_bn_forward_elemt_planar, f32_bn_forward_elemt_interleaved,
} from "./forward";
export {
  f32_bn_backward_train_planar, f32_bn_backward_train_interleaved,
  f32_bn_backward_eval_planar, f32_bn_backward_eval_interleaved,
  f32_bn_backward_reduce_planar, f32_bn_backward_reduce_interleaved,
  f32_bn_backward_elemt_planar, f32_bn_backward_elemt_interleaved,
} from "./backward";
