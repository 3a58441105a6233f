// The module's exports: one file per kernel family. Every batch-norm export is one phase of
// an op, called as parts.ts describes; limits.ts holds the thresholds that choose a path.
export { alloc, free, copy, SIMD, STAGGER_FROM } from "./heap";
export {
  BLOCK, MAX_BLOCK_ROWS, DOT_TERMS, L2_BYTES, CHUNK, COLUMNS, SHORT_ROW, MIN_SPLAT_ROW, MAX_ROW_IN_ORDER, MAX_ROW_IN_LANES,
  MAX_TWO_ROWS_CHANNELS, MIN_FOUR_ROW_COLUMNS, INTERLEAVED_UNIT, MAX_GROUPS, ROW_UNIT, PATH_COLUMNS, PATH_IN_ORDER,
  PATH_GATHERED, PATH_IN_LANES, PATH_ROWS, PATH_INTERLEAVED, PATH_SPLATS, PATH_FOUR_ROWS, PATH_TWO_ROWS, lastPath,
} from "./limits";
export { SCRATCH_BYTES } from "./parts";
export { f32_bn_stats_planar, f32_bn_stats_interleaved, f32_bn_stats_interleaved_merge } from "./stats";
export {
  f32_bn_forward_train_planar_reduce, f32_bn_forward_train_interleaved_fold,
  f32_bn_fold_running, f32_bn_fold_batch, f32_bn_apply_planar, f32_bn_apply_interleaved,
} from "./forward";
export {
  f32_bn_backward_train_planar_reduce, f32_bn_backward_apply_planar, f32_bn_backward_apply_interleaved,
  f32_bn_backward_eval_planar_reduce, f32_bn_backward_reduce_planar, f32_bn_backward_shifts,
  f32_bn_backward_reduce_interleaved, f32_bn_backward_merge_interleaved, f32_bn_backward_fold,
  f32_bn_backward_eval_fold, f32_bn_backward_eval_grads,
} from "./backward";
export { f32_matmul_nt, f32_matmul_nn, f32_matmul_tn_acc, f32_sum_rows_acc } from "./matmul";
export {
  f32_sigmoid, f32_sigmoid_backward, f32_relu, f32_relu_backward, f32_scale_shift_interleaved,
  f32_softmax_xent, f32_argmax_correct, f32_sgd_momentum, f32_axpy, f32_dot, f32_sqdist,
  f32_dropout, f32_mul,
} from "./nn";
