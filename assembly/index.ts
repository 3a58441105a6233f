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
export { f32_matmul_nt, f32_matmul_nn, f32_matmul_tn_acc, f32_sum_rows_acc } from "./matmul";
export {
  f32_sigmoid, f32_sigmoid_backward, f32_relu, f32_relu_backward, f32_scale_shift_interleaved,
  f32_softmax_xent, f32_argmax_correct, f32_sgd_momentum, f32_axpy, f32_dot, f32_sqdist,
  f32_dropout, f32_mul,
} from "./nn";
