;; engagement-gym's own wasm kernels, run on the TensorFlow.js wasm backend's heap (its memory is imported, so
;; they read and write its tensors in place). Assembled by `node scripts/build-wasm-kernels.mjs` into
;; policies/wasm-kernels.ts; test/policies/slates-and-networks.test.ts checks that file is this source's assembly.
(module
  (import "env" "memory" (memory 1))

  ;; atb: out[i H + j] += sum over k = 0 .. R-1, in that order, of a[k C + i] x b[k H + j], for i < C, j < H,
  ;; with a [R, C], b [R, H] and out [C, H] row-major float32 at byte addresses a, b, out (out holds the start
  ;; values: zeros for the product a^T b). Every product and every sum is rounded to float32 on its own (f32x4.mul
  ;; then f32x4.add, no fused multiply-add), and each output adds its R products one after another: the order in
  ;; which XNNPACK's GEMM (the backend's MatMul) adds them, so a^T b comes out bit-identical to
  ;; matMul(transpose(a), b) there, without packing b first.
  ;; The rows are taken in chunks of 64 (a chunk of b, 64 x H floats, stays in the first-level cache while every
  ;; output row i reads it); within a chunk each output row is done sixteen columns at a time (four f32x4
  ;; accumulators held in locals over the chunk's rows, loaded from out before and stored after), then four at a
  ;; time, then one by one. Chunks go in order, so each output still adds its products in the order of k.
  (func (export "atb") (param $a i32) (param $b i32) (param $out i32) (param $R i32) (param $C i32) (param $H i32)
    (local $k0 i32) (local $k1 i32) (local $i i32) (local $j i32)
    (local $pa i32) (local $pb i32) (local $pend i32) (local $po i32) (local $sa i32) (local $sb i32)
    (local $s v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $cf f32)
    (local.set $sa (i32.shl (local.get $C) (i32.const 2)))
    (local.set $sb (i32.shl (local.get $H) (i32.const 2)))
    (local.set $k0 (i32.const 0))
    (block $chunksdone
      (loop $chunks
        (br_if $chunksdone (i32.ge_u (local.get $k0) (local.get $R)))
        (local.set $k1
          (select (local.get $R) (i32.add (local.get $k0) (i32.const 64))
            (i32.lt_u (i32.sub (local.get $R) (local.get $k0)) (i32.const 64))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $C)))
            (local.set $j (i32.const 0))
            (block $j16done (loop $j16
              (br_if $j16done (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $H)))
              (local.set $po (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $H)) (local.get $j)) (i32.const 2))))
              (local.set $c0 (v128.load offset=0 (local.get $po)))
              (local.set $c1 (v128.load offset=16 (local.get $po)))
              (local.set $c2 (v128.load offset=32 (local.get $po)))
              (local.set $c3 (v128.load offset=48 (local.get $po)))
              (local.set $pa (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $C)) (local.get $i)) (i32.const 2))))
              (local.set $pend (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k1) (local.get $C)) (local.get $i)) (i32.const 2))))
              (local.set $pb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $H)) (local.get $j)) (i32.const 2))))
              (block $j16kdone (loop $j16k
                (br_if $j16kdone (i32.ge_u (local.get $pa) (local.get $pend)))
                (local.set $s (f32x4.splat (f32.load (local.get $pa))))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $pb)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pb)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $pb)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $pb)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
                (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
                (br $j16k)))
              (v128.store offset=0 (local.get $po) (local.get $c0))
              (v128.store offset=16 (local.get $po) (local.get $c1))
              (v128.store offset=32 (local.get $po) (local.get $c2))
              (v128.store offset=48 (local.get $po) (local.get $c3))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br $j16)))
            (block $j4done (loop $j4
              (br_if $j4done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $H)))
              (local.set $po (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $H)) (local.get $j)) (i32.const 2))))
              (local.set $c0 (v128.load offset=0 (local.get $po)))
              (local.set $pa (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $C)) (local.get $i)) (i32.const 2))))
              (local.set $pend (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k1) (local.get $C)) (local.get $i)) (i32.const 2))))
              (local.set $pb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $H)) (local.get $j)) (i32.const 2))))
              (block $j4kdone (loop $j4k
                (br_if $j4kdone (i32.ge_u (local.get $pa) (local.get $pend)))
                (local.set $s (f32x4.splat (f32.load (local.get $pa))))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $pb)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
                (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
                (br $j4k)))
              (v128.store offset=0 (local.get $po) (local.get $c0))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $j4)))
            (block $j1done (loop $j1
              (br_if $j1done (i32.gt_u (i32.add (local.get $j) (i32.const 1)) (local.get $H)))
              (local.set $po (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $H)) (local.get $j)) (i32.const 2))))
              (local.set $cf (f32.load (local.get $po)))
              (local.set $pa (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $C)) (local.get $i)) (i32.const 2))))
              (local.set $pend (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $k1) (local.get $C)) (local.get $i)) (i32.const 2))))
              (local.set $pb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $H)) (local.get $j)) (i32.const 2))))
              (block $j1kdone (loop $j1k
                (br_if $j1kdone (i32.ge_u (local.get $pa) (local.get $pend)))
                (local.set $cf (f32.add (local.get $cf) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $sa)))
                (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
                (br $j1k)))
              (f32.store (local.get $po) (local.get $cf))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $j1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $iloop)))
        (local.set $k0 (local.get $k1))
        (br $chunks))))

  ;; colsum: out[j] += sum over k = 0 .. R-1, in that order, of x[k C + j], for j < C, with x [R, C] and out [C]
  ;; row-major float32 at byte addresses x and out (out holds the start values: zeros for the column sums). Each
  ;; sum is rounded to float32 on its own (f32x4.add, lanes over columns), and each column adds its rows one after
  ;; another, as columnSum in policies/backend.ts did in JS (bit-identical, tested). Rows go in chunks of 64 (a
  ;; chunk stays in the first-level cache while its columns are summed), sixteen columns at a time in four f32x4
  ;; locals, then four, then one.
  (func $colsum (export "colsum") (param $x i32) (param $out i32) (param $R i32) (param $C i32)
    (local $k0 i32) (local $k1 i32) (local $j i32) (local $px i32) (local $pend i32) (local $po i32) (local $sx i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $cf f32)
    (local.set $sx (i32.shl (local.get $C) (i32.const 2)))
    (local.set $k0 (i32.const 0))
    (block $chunksdone
      (loop $chunks
        (br_if $chunksdone (i32.ge_u (local.get $k0) (local.get $R)))
        (local.set $k1
          (select (local.get $R) (i32.add (local.get $k0) (i32.const 64))
            (i32.lt_u (i32.sub (local.get $R) (local.get $k0)) (i32.const 64))))
        (local.set $j (i32.const 0))
        (block $j16done (loop $j16
          (br_if $j16done (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $C)))
          (local.set $po (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $c0 (v128.load offset=0 (local.get $po)))
          (local.set $c1 (v128.load offset=16 (local.get $po)))
          (local.set $c2 (v128.load offset=32 (local.get $po)))
          (local.set $c3 (v128.load offset=48 (local.get $po)))
          (local.set $px (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $C)) (local.get $j)) (i32.const 2))))
          (local.set $pend (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k1) (local.get $C)) (local.get $j)) (i32.const 2))))
          (block $j16kdone (loop $j16k
            (br_if $j16kdone (i32.ge_u (local.get $px) (local.get $pend)))
            (local.set $c0 (f32x4.add (local.get $c0) (v128.load offset=0 (local.get $px))))
            (local.set $c1 (f32x4.add (local.get $c1) (v128.load offset=16 (local.get $px))))
            (local.set $c2 (f32x4.add (local.get $c2) (v128.load offset=32 (local.get $px))))
            (local.set $c3 (f32x4.add (local.get $c3) (v128.load offset=48 (local.get $px))))
            (local.set $px (i32.add (local.get $px) (local.get $sx)))
            (br $j16k)))
          (v128.store offset=0 (local.get $po) (local.get $c0))
          (v128.store offset=16 (local.get $po) (local.get $c1))
          (v128.store offset=32 (local.get $po) (local.get $c2))
          (v128.store offset=48 (local.get $po) (local.get $c3))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $j16)))
        (block $j4done (loop $j4
          (br_if $j4done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $C)))
          (local.set $po (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $c0 (v128.load offset=0 (local.get $po)))
          (local.set $px (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $C)) (local.get $j)) (i32.const 2))))
          (local.set $pend (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k1) (local.get $C)) (local.get $j)) (i32.const 2))))
          (block $j4kdone (loop $j4k
            (br_if $j4kdone (i32.ge_u (local.get $px) (local.get $pend)))
            (local.set $c0 (f32x4.add (local.get $c0) (v128.load offset=0 (local.get $px))))
            (local.set $px (i32.add (local.get $px) (local.get $sx)))
            (br $j4k)))
          (v128.store offset=0 (local.get $po) (local.get $c0))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $j4)))
        (block $j1done (loop $j1
          (br_if $j1done (i32.ge_u (local.get $j) (local.get $C)))
          (local.set $po (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $cf (f32.load (local.get $po)))
          (local.set $px (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $C)) (local.get $j)) (i32.const 2))))
          (local.set $pend (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k1) (local.get $C)) (local.get $j)) (i32.const 2))))
          (block $j1kdone (loop $j1k
            (br_if $j1kdone (i32.ge_u (local.get $px) (local.get $pend)))
            (local.set $cf (f32.add (local.get $cf) (f32.load (local.get $px))))
            (local.set $px (i32.add (local.get $px) (local.get $sx)))
            (br $j1k)))
          (f32.store (local.get $po) (local.get $cf))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j1)))
        (local.set $k0 (local.get $k1))
        (br $chunks))))
  ;; colsums: B column sums in a row, colsum of each [R, C] block of x [B, R, C] into its row of out [B, C] (the sum of
  ;; x over its middle axis, in the order of that axis).
  (func (export "colsums") (param $x i32) (param $out i32) (param $B i32) (param $R i32) (param $C i32)
    (local $b i32) (local $sx i32) (local $so i32)
    (local.set $so (i32.shl (local.get $C) (i32.const 2)))
    (local.set $sx (i32.mul (local.get $R) (local.get $so)))
    (local.set $b (i32.const 0))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $b) (local.get $B)))
      (call $colsum (local.get $x) (local.get $out) (local.get $R) (local.get $C))
      (local.set $x (i32.add (local.get $x) (local.get $sx)))
      (local.set $out (i32.add (local.get $out) (local.get $so)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $blocks))))

  ;; amv: out[i] = 0 + a[i C] w[0] + a[i C + 1] w[1] + ... + a[i C + C - 1] w[C - 1], the terms added in that
  ;; order, for i < R, with a [R, C], w [C] and out [R] row-major float32 at byte addresses a, w, out. Every product
  ;; and every sum is rounded to float32 on its own (no fused multiply-add), and the sum starts from +0: the order
  ;; and the start of XNNPACK's GEMM (the backend's MatMul, whose accumulators start from the packed bias, zeros
  ;; without one), so a w comes out bit-identical to matMul(a, w) for w [C, 1] (tested). The backend's GEMM pads
  ;; one output column to eight and computes all eight. Here four rows share the f32x4 lanes: for each four
  ;; columns, the four rows' 4 x 4 block is loaded and transposed by shuffles, so that lane r of the accumulator
  ;; adds row r's terms column by column; the last C mod 4 columns are gathered lane by lane, and the last R mod 4
  ;; rows are summed one float at a time.
  (func (export "amv") (param $a i32) (param $w i32) (param $out i32) (param $R i32) (param $C i32)
    (local $i i32) (local $k i32) (local $sa i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $lo01 v128) (local $hi01 v128)
    (local $lo23 v128) (local $hi23 v128) (local $acc v128) (local $t v128) (local $wk i32) (local $pa i32)
    (local $cf f32)
    (local.set $sa (i32.shl (local.get $C) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $i4done (loop $i4
      (br_if $i4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $R)))
      (local.set $p0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sa))))
      (local.set $p1 (i32.add (local.get $p0) (local.get $sa)))
      (local.set $p2 (i32.add (local.get $p1) (local.get $sa)))
      (local.set $p3 (i32.add (local.get $p2) (local.get $sa)))
      (local.set $acc (v128.const f32x4 0 0 0 0))
      (local.set $wk (local.get $w))
      (local.set $k (i32.const 0))
      (block $k4done (loop $k4
        (br_if $k4done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $C)))
        (local.set $r0 (v128.load (local.get $p0)))
        (local.set $r1 (v128.load (local.get $p1)))
        (local.set $r2 (v128.load (local.get $p2)))
        (local.set $r3 (v128.load (local.get $p3)))
        ;; (r0[0], r1[0], r0[1], r1[1]) and (r0[2], r1[2], r0[3], r1[3]), and the same for rows 2 and 3
        (local.set $lo01 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
        (local.set $hi01 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
        (local.set $lo23 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
        (local.set $hi23 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
        ;; column k of the four rows times w[k], then k + 1, k + 2 and k + 3, added in that order
        (local.set $t (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo01) (local.get $lo23)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $t) (f32x4.splat (f32.load offset=0 (local.get $wk))))))
        (local.set $t (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo01) (local.get $lo23)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $t) (f32x4.splat (f32.load offset=4 (local.get $wk))))))
        (local.set $t (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $hi01) (local.get $hi23)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $t) (f32x4.splat (f32.load offset=8 (local.get $wk))))))
        (local.set $t (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $hi01) (local.get $hi23)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $t) (f32x4.splat (f32.load offset=12 (local.get $wk))))))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
        (local.set $wk (i32.add (local.get $wk) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $k4)))
      (block $k1done (loop $k1
        (br_if $k1done (i32.ge_u (local.get $k) (local.get $C)))
        (local.set $t (f32x4.splat (f32.load (local.get $p0))))
        (local.set $t (f32x4.replace_lane 1 (local.get $t) (f32.load (local.get $p1))))
        (local.set $t (f32x4.replace_lane 2 (local.get $t) (f32.load (local.get $p2))))
        (local.set $t (f32x4.replace_lane 3 (local.get $t) (f32.load (local.get $p3))))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $t) (f32x4.splat (f32.load (local.get $wk))))))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
        (local.set $wk (i32.add (local.get $wk) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $k1)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $acc))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $i4)))
    (block $i1done (loop $i1
      (br_if $i1done (i32.ge_u (local.get $i) (local.get $R)))
      (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sa))))
      (local.set $wk (local.get $w))
      (local.set $cf (f32.const 0))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kl
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $C)))
        (local.set $cf (f32.add (local.get $cf) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $wk)))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $wk (i32.add (local.get $wk) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kl)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $cf))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $i1))))

  ;; relugrad: out[i] = dy[i] x step(x[i]) for i < n, float32 at byte addresses dy, x, out, where step is the
  ;; backend's Step: 1 where x > 0, NaN where x is NaN, else 0 (+0). tfjs-core's ReLU gradient is the product of dy
  ;; with Step(x), two kernels and a [n] array between them; here one pass, the same f32 product, so the values are
  ;; the same (tested; a NaN's payload aside, which the float32 multiply does not fix).
  (func (export "relugrad") (param $dy i32) (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $xv v128) (local $s v128) (local $xf f32)
    (local.set $i (i32.const 0))
    (block $done4 (loop $four
      (br_if $done4 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
      (local.set $xv (v128.load (local.get $x)))
      ;; 1.0 where x > 0, else +0; then x itself (a NaN) where x is NaN
      (local.set $s (v128.and (f32x4.gt (local.get $xv) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
      (local.set $s (v128.or (local.get $s) (v128.and (f32x4.ne (local.get $xv) (local.get $xv)) (local.get $xv))))
      (v128.store (local.get $out) (f32x4.mul (v128.load (local.get $dy)) (local.get $s)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $four)))
    (block $done1 (loop $one
      (br_if $done1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $xf (f32.load (local.get $x)))
      (f32.store (local.get $out)
        (f32.mul (f32.load (local.get $dy))
          (select (f32.const 1)
            (select (local.get $xf) (f32.const 0) (f32.ne (local.get $xf) (local.get $xf)))
            (f32.gt (local.get $xf) (f32.const 0)))))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $one))))

  ;; addrelu: out[b, n, j] = max(u[b, j] + c[b, n, j], +0) for b < B, n < N, j < H, with u [B, H], c and out [B, N, H]
  ;; row-major float32 at byte addresses u, c, out: the backend's Add with u broadcast over the N rows (the float32
  ;; sum) and its Relu (+0 for a negative value or -0, a NaN stays NaN) in one pass, the same values (tested).
  (func (export "addrelu") (param $u i32) (param $c i32) (param $out i32) (param $B i32) (param $N i32) (param $H i32)
    (local $b i32) (local $n i32) (local $j i32) (local $pu i32)
    (local.set $b (i32.const 0))
    (block $bdone (loop $bl
      (br_if $bdone (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $n (i32.const 0))
      (block $ndone (loop $nl
        (br_if $ndone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $pu (local.get $u))
        (local.set $j (i32.const 0))
        (block $j4done (loop $j4
          (br_if $j4done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $H)))
          (v128.store (local.get $out)
            (f32x4.max (f32x4.add (v128.load (local.get $pu)) (v128.load (local.get $c))) (v128.const f32x4 0 0 0 0)))
          (local.set $pu (i32.add (local.get $pu) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $j4)))
        (block $j1done (loop $j1
          (br_if $j1done (i32.ge_u (local.get $j) (local.get $H)))
          (f32.store (local.get $out) (f32.max (f32.add (f32.load (local.get $pu)) (f32.load (local.get $c))) (f32.const 0)))
          (local.set $pu (i32.add (local.get $pu) (i32.const 4)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nl)))
      (local.set $u (i32.add (local.get $u) (i32.shl (local.get $H) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl)))))
