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
  ;; matMul(transpose(a), b) there, without packing b first. Four columns at a time, the last H mod 4 one by one.
  (func (export "atb") (param $a i32) (param $b i32) (param $out i32) (param $R i32) (param $C i32) (param $H i32)
    (local $k i32) (local $i i32) (local $j i32) (local $H4 i32)
    (local $arow i32) (local $brow i32) (local $orow i32) (local $p i32)
    (local $sf f32) (local $s v128)
    (local.set $H4 (i32.and (local.get $H) (i32.const -4)))
    (local.set $arow (local.get $a))
    (local.set $brow (local.get $b))
    (local.set $k (i32.const 0))
    (block $kdone
      (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $R)))
        (local.set $orow (local.get $out))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $C)))
            (local.set $sf (f32.load (i32.add (local.get $arow) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $s (f32x4.splat (local.get $sf)))
            (local.set $j (i32.const 0))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $H4)))
                (local.set $p (i32.add (local.get $orow) (i32.shl (local.get $j) (i32.const 2))))
                (v128.store (local.get $p)
                  (f32x4.add
                    (v128.load (local.get $p))
                    (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $brow) (i32.shl (local.get $j) (i32.const 2)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $jloop)))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $j) (local.get $H)))
                (local.set $p (i32.add (local.get $orow) (i32.shl (local.get $j) (i32.const 2))))
                (f32.store (local.get $p)
                  (f32.add
                    (f32.load (local.get $p))
                    (f32.mul (local.get $sf) (f32.load (i32.add (local.get $brow) (i32.shl (local.get $j) (i32.const 2)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tloop)))
            (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $H) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $iloop)))
        (local.set $arow (i32.add (local.get $arow) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $brow (i32.add (local.get $brow) (i32.shl (local.get $H) (i32.const 2))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kloop)))))
